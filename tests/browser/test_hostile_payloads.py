"""Messages carrying HTML and script never run in the helpline console or the moderation pages."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from bot.moderation.redaction import load_redactor
from bot.staff.models import Role
from devtools.console import create_account
from devtools.teen import TeenClient

PAYLOADS = [
    "<img src=x onerror=\"window.__xss='img'\">",
    "<script>window.__xss='script'</script>",
    '"><svg onload="window.__xss=\'svg\'">',
    "<a href=\"javascript:window.__xss='link'\">click</a>",
]


def test_html_and_script_in_messages_are_shown_as_text_and_never_run(page: Page, service) -> None:
    name = f"admin{time.monotonic_ns()}"
    password = create_account(service.database_url, name, Role.ADMIN)
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(f"{service.base_url}/console/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    young_person = TeenClient.at(service.base_url)
    for payload in PAYLOADS[1:]:
        young_person.say(payload)
    young_person.say(f"{PAYLOADS[0]} he says hell send my nudes to my family unless i pay him")
    row = page.locator("#queue tbody tr").last
    expect(row).to_be_visible(timeout=15000)
    row.get_by_role("button", name="Claim").click()
    for payload in PAYLOADS:
        expect(page.locator("#transcript")).to_contain_text(payload, timeout=15000)
    expect(page.locator("#cues")).to_contain_text("unless i pay")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#transcript img, #transcript script, #transcript svg, #transcript a").count() == 0

    page.goto(f"{service.base_url}/moderation")
    page.get_by_role("row").filter(has_text="high").get_by_role("button", name="Open transcript").first.click()
    # The conversation is live (its case is open): an admin opens it only with a reason.
    page.get_by_label("Why must you open this live conversation?").fill("checking hostile input is shown as text")
    page.get_by_role("button", name="Open with this reason").click()
    # Moderators read transcripts redacted: "window.__xss" has a username's shape.
    for payload in PAYLOADS:
        expect(page.locator("#transcript")).to_contain_text(load_redactor().redact(payload))
    assert page.evaluate("window.__xss") is None
    assert page.locator("#transcript img, #transcript script, #transcript svg, #transcript a").count() == 0
    # The pages load every script from a file, so the policy refuses nothing of theirs.
    assert blocked == []
    young_person.close()
