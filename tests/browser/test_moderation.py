"""The moderator's flow and the reports page in a real browser, with axe-core: find an ended
conversation, open it (details hidden), flag a missed handoff, export the flagged turns; then a
shift lead reads the reports.

Only the app runs here (no Rasa): these pages read the app's database and Rasa's tracker
store, which Rasa itself writes for the test (tests/app/rasa_tracker.py)."""

from __future__ import annotations

import os
import signal
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from bot.conversation import service as conversations
from bot.conversation.models import EventType
from bot.database import session_factory, session_scope, upgrade_database, utcnow
from bot.handoff import service as cases
from bot.staff import service as staff
from bot.staff.models import Role
from devtools.console import create_account
from devtools.processes import free_port
from safeguarding.vocabulary import Level
from tests.app.console_helpers import coercion_case
from tests.app.rasa_tracker import rasa_saves_trackers
from tests.browser.conftest import axe_violations
from tests.running_service import start_app

SAID = "my snap is jake_22 and he says hell post my pics unless i pay. im Jake from Oakfield Academy"


@dataclass
class AppOnly:
    base_url: str
    database_url: str
    conversation_id: str


@pytest.fixture(scope="module")
def app_only(tmp_path_factory) -> Iterator[AppOnly]:
    folder: Path = tmp_path_factory.mktemp("moderation")
    database_url = f"sqlite:///{folder / 'app.sqlite3'}"
    tracker_url = f"sqlite:///{folder / 'tracker.sqlite3'}"
    upgrade_database(database_url)
    with session_scope(session_factory(database_url)) as session:
        conversation, _ = conversations.create(session=session)
        conversations.append_event(conversation.id, EventType.USER_MESSAGE, {"text": SAID}, session=session)
        conversations.append_event(
            conversation.id, EventType.BOT_MESSAGE, {"text": "You can call Childline on 0800 1111."}, session=session
        )
        case = coercion_case(conversation.id, opened_at_seq=1, session=session)
        case.claimed_at = case.created_at + timedelta(minutes=3)
        cases.close(case, outcome="referred_ceop", note=None, closed_at_seq=2)
        conversation.last_activity_at = utcnow() - timedelta(hours=3)
        conversation_id = conversation.id
    rasa_saves_trackers(tracker_url, [conversation_id])
    port = free_port()
    env = {
        **os.environ,
        "BOT_DATABASE_URL": database_url,
        "RASA_TRACKER_URL": tracker_url,
        "BOT_RASA_URL": "http://127.0.0.1:9",
        "BOT_ACTIONS_URL": "http://127.0.0.1:9",
        "BOT_COOKIE_SECURE": "0",
    }
    process = start_app(env, port)
    base_url = f"http://127.0.0.1:{port}"
    yield AppOnly(base_url, database_url, conversation_id)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def sign_in(page: Page, app_only: AppOnly, role: Role) -> None:
    name = f"{role.value}{time.monotonic_ns()}"
    password = create_account(app_only.database_url, name, role)
    page.goto(f"{app_only.base_url}/console/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_moderator_finds_opens_and_flags_a_conversation(page: Page, app_only: AppOnly, artifacts) -> None:
    sign_in(page, app_only, Role.MODERATOR)
    expect(page.get_by_role("heading", name="Ended conversations")).to_be_visible()
    page.get_by_label("Outcome").select_option("referred_ceop")
    page.get_by_role("button", name="Filter").click()
    page.locator("#conversations tbody tr").first.get_by_role("button", name="Open transcript").click()

    transcript = page.locator("#transcript")
    # The first opening in a process loads the redactor's name lists (a few seconds).
    expect(transcript).to_contain_text("[username]", timeout=30000)
    expect(transcript).to_contain_text("0800 1111")
    for hidden in ("jake_22", "Jake", "Oakfield"):
        expect(transcript).not_to_contain_text(hidden)
    turn = page.locator("#turns li.turn").first
    expect(turn).to_contain_text("Intent: disclose_coercion (91%)")
    assert axe_violations(page) == []

    turn.get_by_label("Flag").select_option("missed_handoff")
    turn.get_by_label("coercion").check()
    turn.get_by_label("Note").fill("should have gone to a worker at once")
    turn.get_by_role("button", name="Save flag").click()
    expect(turn).to_contain_text("Flag saved.")
    expect(page.locator("#flag-counts")).to_contain_text("Missed handoff: 1")
    page.screenshot(path=str(artifacts / "moderation.png"), full_page=True)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Export flagged turns for review").click()
    exported = zipfile.ZipFile(downloading.value.path())
    risk = yaml.safe_load(exported.read("risk_review.yml"))["conversations"]
    assert [(item["criteria"], item["risk_at"]) for item in risk] == [(["coercion"], 1)]
    assert "[username]" in risk[0]["turns"][0] and "jake_22" not in exported.read("risk_review.yml").decode()


def test_the_reports_page_draws_its_charts_accessibly_for_a_shift_lead(
    page: Page, app_only: AppOnly, artifacts
) -> None:
    sign_in(page, app_only, Role.LEAD)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Outcomes")).to_be_visible()
    expect(page.locator(".numbers")).to_contain_text("p50 3.0 min")
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "reports.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(artifacts / "reports-phone.png"), full_page=True)


def test_the_console_shows_queue_health_and_fits_1280_and_320_with_100_waiting(
    page: Page, app_only: AppOnly, artifacts
) -> None:
    with session_scope(session_factory(app_only.database_url)) as session:
        for number in range(100):
            conversation, _ = conversations.create(session=session)
            cases.create(
                conversation.id,
                level=[Level.CRITICAL, Level.HIGH, Level.OFFERED][number % 3],
                criteria=["coercion", "adult_involved"],
                evidence=[{"label": "threats to share a picture unless they pay", "quote": "x"}],
                detected_by="dialogue",
                age_band="13_15",
                nation="northern_ireland",
                opened_at_seq=0,
                session=session,
            )
    sign_in(page, app_only, Role.STAFF)
    expect(page.locator("#waiting-critical")).to_have_text("34")
    expect(page.locator("#page-of")).to_have_text("Page 1 of 2")
    assert page.locator("#queue tbody tr").count() == 50
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "console-queue-health.png"))
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(artifacts / "console-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Take the next most urgent").click()
    expect(page.locator("#case")).to_be_visible()
    expect(page.locator("#waiting-critical")).to_have_text("33")


def test_the_young_persons_privacy_page_is_accessible_on_a_phone(page: Page, app_only: AppOnly, artifacts) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{app_only.base_url}/privacy")
    expect(page.get_by_role("heading", name="Your privacy in this chat")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "privacy-phone.png"), full_page=True)


def test_a_shift_lead_watches_a_case_with_a_worker_and_reassigns_it(page: Page, app_only: AppOnly, artifacts) -> None:
    create_account(app_only.database_url, "asha-lead-test")
    create_account(app_only.database_url, "ben-lead-test")
    with session_scope(session_factory(app_only.database_url)) as session:
        conversation, _ = conversations.create(session=session)
        conversations.append_event(
            conversation.id, EventType.USER_MESSAGE, {"text": "he wants more pics by tonight"}, session=session
        )
        case = coercion_case(conversation.id, opened_at_seq=1, session=session)
        assert cases.claim(case.id, staff.find_user("asha-lead-test", session=session).id, session=session)
    sign_in(page, app_only, Role.LEAD)
    row = page.locator("#in-hand tbody tr").filter(has_text="asha-lead-test")
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Watch").click()
    expect(page.locator("#watched")).to_contain_text("he wants more pics by tonight")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "console-lead-watching.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(artifacts / "console-lead-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    row.get_by_role("button", name="Reassign").click()
    page.get_by_label("to the worker with username").fill("ben-lead-test")
    page.locator("#reassign").get_by_role("button", name="Reassign").click()
    expect(page.locator("#in-hand tbody tr").filter(has_text="ben-lead-test")).to_have_count(1)
    expect(page.locator("#in-hand tbody tr").filter(has_text="asha-lead-test")).to_have_count(0)
