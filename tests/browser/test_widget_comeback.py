"""The optional come-back code in the widget, in real Chromium against the real service (trained model).

These tests run their own app instance, beside the session's Rasa and action server, on a
database of its own with no staff account: nobody is on shift there whatever other tests
do, which is when the bot offers a code. Its own page (the demo page with the one-line
embed) shows the chat.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import axe_violations, neutral_exit_page
from tests.browser.test_widget import (
    BOT_LINE,
    a_worker_takes_the_newest_case_and_replies,
    assert_the_chat_is_gone,
    chat,
    chat_frame,
    open_chat,
    say,
)
from tests.running_service import free_port, start_app

COERCION = "someone i met online says hell post my nudes unless i pay him £50. im 15"
CODE = re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}$")
WORKER_REPLY = "Hi, I'm Sam from the helpline. I'm glad you came back."


@dataclass
class QuietHelpline:
    """An app instance whose database has no helpline worker on shift."""

    url: str
    database_url: str


@pytest.fixture(scope="module")
def helpline(service, tmp_path_factory) -> Iterator[QuietHelpline]:
    from bot.database import upgrade_database

    database_url = f"sqlite:///{tmp_path_factory.mktemp('comeback') / 'app.sqlite3'}"
    upgrade_database(database_url)
    port = free_port()
    app = start_app({**service.app_env, "BOT_DATABASE_URL": database_url}, port)
    yield QuietHelpline(f"http://127.0.0.1:{port}/", database_url)
    app.send_signal(signal.SIGTERM)
    app.wait(timeout=30)


def ask_for_a_person_with_nobody_on_shift(page: Page, helpline: QuietHelpline) -> None:
    open_chat(page, helpline.url)
    say(page, COERCION)
    expect(chat(page).get_by_role("status")).to_have_text("Finding a helpline worker for you…")
    expect(
        chat(page).locator(BOT_LINE).filter(has_text="only see their reply while this page stays open")
    ).to_be_visible()


def get_a_code(page: Page) -> str:
    """Take the offer: the code and the words on what it is appear under it."""
    chat(page).get_by_role("button", name="Get a come-back code").click()
    shown = chat(page).locator(".comeback-code")
    expect(shown).to_be_focused()
    code = shown.locator("strong").inner_text()
    assert CODE.match(code), code
    return code


def come_back_with(page: Page, helpline: QuietHelpline, code: str) -> None:
    open_chat(page, helpline.url)
    chat(page).get_by_text("I have a come-back code").click()
    chat(page).get_by_label("Your come-back code").fill(code)
    chat(page).get_by_role("button", name="Open my chat").click()


def everything_the_browser_keeps(page: Page) -> str:
    """The frame's and the page's storage and cookies, as one text to search."""
    read = "() => JSON.stringify([{...sessionStorage}, {...localStorage}, document.cookie])"
    return chat_frame(page).evaluate(read) + page.evaluate(read)


def test_the_code_is_offered_with_nobody_on_shift_and_brings_back_the_chat_and_the_workers_reply(
    browser: Browser, helpline: QuietHelpline
) -> None:
    # Two visits, as a young person would make them: leaving with Quick exit, coming back later in a new window.
    first = browser.new_context(viewport={"width": 1280, "height": 800})
    page = first.new_page()
    neutral_exit_page(page)
    ask_for_a_person_with_nobody_on_shift(page, helpline)
    offer = chat(page).locator(f"{BOT_LINE}:has(.comeback-get)")
    expect(offer).to_have_count(1)
    expect(offer).to_contain_text("You don't need one")

    code = get_a_code(page)
    said = chat(page).locator(".comeback-code").inner_text()
    for plainly in ["You don't need it", "within 24 hours", "It works once", "keep it private", "Delete my chat"]:
        assert plainly in said, plainly
    assert code not in everything_the_browser_keeps(page), "the code is never stored in the browser"

    chat(page).get_by_role("dialog").get_by_role("button", name="Quick exit").click()
    assert_the_chat_is_gone(page, helpline.url)
    assert code not in chat_frame(page).locator("body").inner_text() + everything_the_browser_keeps(page)
    first.close()

    # While the page was closed, a worker came on and answered.
    a_worker_takes_the_newest_case_and_replies(helpline.url, helpline.database_url, WORKER_REPLY)

    later = browser.new_context(viewport={"width": 1280, "height": 800})
    page = later.new_page()
    come_back_with(page, helpline, code.lower().replace("-", " "))  # as it might be typed
    expect(chat(page).get_by_role("alert")).to_have_text(
        "Your chat is open again. You can carry on where you left off."
    )
    expect(chat(page).locator("li.user_message")).to_contain_text([COERCION])
    expect(chat(page).locator("li.human_message")).to_contain_text(WORKER_REPLY)
    expect(chat(page).get_by_role("status")).to_have_text("You're talking to a helpline worker.")
    expect(chat(page).get_by_label("Type your message")).to_be_focused()
    expect(chat(page).get_by_text("I have a come-back code")).to_be_hidden()
    assert code not in everything_the_browser_keeps(page)

    # The chat carries on here, and the worker reads it.
    say(page, "thank you")
    expect(chat(page).locator("li.user_message:not(.pending)")).to_have_count(2)
    later.close()


def test_a_wrong_code_is_refused_kindly_and_the_new_chat_stays(page: Page, helpline: QuietHelpline) -> None:
    come_back_with(page, helpline, "ABCDE-FGHJK")
    error = chat(page).locator(".comeback-error")
    expect(error).to_have_text(re.compile(r"^Sorry, that code doesn't work\..*Check it and try again"))
    expect(error).to_have_attribute("role", "alert")
    field = chat(page).get_by_label("Your come-back code")
    expect(field).to_have_value("ABCDE-FGHJK")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    stored = chat_frame(page).evaluate("() => sessionStorage.getItem('youthchat.conversation')")
    expect(chat(page).locator(BOT_LINE).first).to_contain_text("chatbot")

    say(page, "hello")
    expect(chat(page).locator("li.user_message:not(.pending)")).to_have_count(1)
    assert chat_frame(page).evaluate("() => sessionStorage.getItem('youthchat.conversation')") == stored
    # Once the young person has written, opening another chat would leave theirs behind.
    expect(chat(page).get_by_text("I have a come-back code")).to_be_hidden()


def test_delete_my_chat_cancels_the_code(browser: Browser, helpline: QuietHelpline) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    ask_for_a_person_with_nobody_on_shift(page, helpline)
    code = get_a_code(page)
    page.once("dialog", lambda dialog: dialog.accept())
    chat(page).get_by_role("button", name="Delete my chat").click()
    # A worker still has to see the chat, so it stays; the code goes at once.
    expect(chat(page).locator(".notice")).to_contain_text("Your come-back code is cancelled")
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    come_back_with(page, helpline, code)
    expect(chat(page).locator(".comeback-error")).to_contain_text("that code doesn't work")
    context.close()


def test_no_accessibility_violations_in_the_come_back_code(axe_page: Page, helpline: QuietHelpline, artifacts) -> None:
    page = axe_page
    come_back_with(page, helpline, "not a code")
    expect(chat(page).locator(".comeback-error")).not_to_be_empty()
    assert axe_violations(chat_frame(page)) == []
    page.screenshot(path=str(artifacts / "widget-comeback-wrong-code.png"))

    say(page, COERCION)
    get_a_code(page)
    assert axe_violations(chat_frame(page)) == []
    page.screenshot(path=str(artifacts / "widget-comeback-code.png"))
    page.set_viewport_size({"width": 320, "height": 640})
    assert axe_violations(chat_frame(page)) == []
    page.screenshot(path=str(artifacts / "widget-comeback-code-320px.png"))
