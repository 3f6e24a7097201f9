"""The helpline console in a real browser: sign in, see a case arrive live, claim it, reply, close."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from devtools.console import create_account
from devtools.teen import TeenClient
from tests.browser.conftest import axe_violations


def test_a_worker_takes_a_critical_case_live(page: Page, service) -> None:
    name = f"console{time.monotonic_ns()}"
    password = create_account(service.database_url, name)
    page.goto(f"{service.base_url}/console")
    expect(page).to_have_url(f"{service.base_url}/console/login")
    assert axe_violations(page) == []
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    page.get_by_role("button", name="Off shift").click()
    expect(page.get_by_role("button", name="On shift")).to_have_attribute("aria-pressed", "true")

    young_person = TeenClient.at(service.base_url)
    young_person.say("my nudes got sent round and i just want to kill myself")
    row = page.locator("#queue tbody tr").filter(has_text="critical").last
    expect(row).to_be_visible(timeout=15000)
    expect(page).to_have_title("(1) Critical · Helpline console")
    assert axe_violations(page) == []

    row.get_by_role("button", name="Claim").click()
    expect(page.locator("#transcript")).to_contain_text("i just want to kill myself")
    expect(page.locator("#cues")).to_contain_text("thoughts of suicide")
    page.get_by_label("Insert a snippet").select_option(label="Danger now: 999")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#transcript li.human_message")).to_contain_text("call 999")

    events = young_person.http.get(f"/api/conversations/{young_person.id}/events", headers=young_person.headers).json()[
        "events"
    ]
    assert any(e["type"] == "human_message" and "999" in e["text"] for e in events)

    young_person.say("ok i will. thank you")
    expect(page.locator("#transcript")).to_contain_text("ok i will. thank you", timeout=15000)
    page.get_by_label("Outcome").select_option("referred_childline")
    page.get_by_role("button", name="Close case").click()
    expect(page.locator("#case")).to_be_hidden()
    young_person.close()
