"""The widget in a real browser (Debian's Chromium via Playwright) against the real running service."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import EXIT_URL, axe_violations
from tests.running_service import PROJECT

BOT_LINE = "li.bot_message"


def widget(page: Page):
    return page.locator("#youthchat-widget")


def open_chat(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    widget(page).get_by_role("button", name="Chat with us").click()
    expect(widget(page).locator(BOT_LINE).first).to_contain_text("chatbot")


def say(page: Page, text: str) -> None:
    box = widget(page).get_by_label("Type your message")
    box.fill(text)
    box.press("Enter")


def test_a_whole_conversation(page: Page, service) -> None:
    open_chat(page, service.base_url)
    expect(widget(page).get_by_role("dialog")).to_be_visible()
    expect(widget(page).get_by_label("Type your message")).to_be_focused()
    bots = widget(page).locator(BOT_LINE).count()
    say(page, "a pic of me has been sent round my whole school")
    expect(widget(page).locator("li.user_message")).to_have_count(1)
    age = widget(page).get_by_role("button", name="13 to 15")
    expect(age).to_be_visible()
    age.click()
    expect(widget(page).locator(BOT_LINE).filter(has_text="Report Remove")).to_have_count(1)
    assert widget(page).locator(BOT_LINE).count() > bots
    link = widget(page).locator("a", has_text="childline.org.uk").first
    assert link.get_attribute("rel") == "noopener noreferrer"
    # Helpline numbers stay in reach.
    expect(widget(page).get_by_role("link", name=re.compile("0800 1111"))).to_be_visible()


def test_an_escalation_shows_the_status_change(page: Page, service) -> None:
    open_chat(page, service.base_url)
    say(page, "someone i met online says hell post my nudes unless i pay him £50. im 15")
    expect(widget(page).get_by_role("status")).to_have_text("Finding a helpline worker for you…")
    expect(widget(page).locator(BOT_LINE).filter(has_text="999").first).to_be_visible()


def test_a_helpline_worker_reply_arrives_in_the_widget(page: Page, service) -> None:
    from tests.app.console_helpers import create_account

    name = f"worker{time.monotonic_ns()}"
    password = create_account(service.database_url, name)
    open_chat(page, service.base_url)
    say(page, "hes blackmailing me and says hell send the video to my school if i dont send more")
    expect(widget(page).get_by_role("status")).to_have_text("Finding a helpline worker for you…")

    with httpx.Client(base_url=service.base_url) as console:
        token = re.search(r'name="csrf_token" value="([^"]+)"', console.get("/console/login").text).group(1)
        console.post("/console/login", data={"username": name, "password": password, "csrf_token": token})
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', console.get("/console").text).group(1)
        headers = {"X-CSRF-Token": csrf}
        queue = console.get("/console/api/state").json()["queue"]
        case = max(queue, key=lambda item: item["created_at"])
        assert console.post(f"/console/api/cases/{case['id']}/claim", headers=headers).status_code == 200
        console.post(
            f"/console/api/cases/{case['id']}/messages",
            json={"text": "Hi, I'm Sam from the helpline."},
            headers=headers,
        )

    expect(widget(page).get_by_role("status")).to_have_text("You're talking to a helpline worker.")
    reply = widget(page).locator("li.human_message")
    expect(reply).to_contain_text("Hi, I'm Sam from the helpline.")
    expect(reply.locator(".who")).to_have_text("Helpline worker")


def test_quick_exit_clears_the_chat_and_replaces_the_page(page: Page, service) -> None:
    open_chat(page, service.base_url)
    say(page, "hello")
    expect(widget(page).locator("li.user_message")).to_have_count(1)
    assert page.evaluate("() => sessionStorage.length") == 1
    page.keyboard.press("Escape")
    page.wait_for_url(f"{EXIT_URL}**")
    page.go_back()
    assert not page.url.startswith(service.base_url), "Back must not return to the chat"
    page.goto(f"{service.base_url}/")
    assert page.evaluate("() => sessionStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""
    expect(widget(page).get_by_role("dialog")).to_be_hidden()


def test_the_quick_exit_button(page: Page, service) -> None:
    open_chat(page, service.base_url)
    widget(page).get_by_role("dialog").get_by_role("button", name="Quick exit").click()
    page.wait_for_url(f"{EXIT_URL}**")


def test_a_pasted_image_is_refused_kindly(page: Page, service) -> None:
    open_chat(page, service.base_url)
    box = widget(page).get_by_label("Type your message")
    box.focus()
    box.evaluate(
        """(element) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array([137, 80, 78, 71])], "photo.png", {type: "image/png"}));
            element.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    expect(widget(page).get_by_role("alert")).to_contain_text("Pictures and files can't be sent here")
    expect(widget(page).locator("li.user_message")).to_have_count(0)
    assert widget(page).locator("input[type=file]").count() == 0


def test_no_accessibility_violations_and_screenshots(page: Page, service, artifacts) -> None:
    page.goto(f"{service.base_url}/")
    assert axe_violations(page) == []
    open_chat(page, service.base_url)
    say(page, "are you a bot")
    expect(widget(page).locator(BOT_LINE).filter(has_text="chatbot, not a person")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "widget-desktop.png"))
    page.set_viewport_size({"width": 320, "height": 640})
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts / "widget-phone.png"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_app(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bot.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.3)


@pytest.mark.parametrize("transport", ["websocket", "long-polling"])
def test_reconnects_after_the_app_restarts_without_losing_or_repeating_messages(page: Page, service, transport) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(service.app_env)
    app = _start_app(env, port)
    try:
        if transport == "long-polling":
            page.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
        open_chat(page, base)
        say(page, "hi")
        expect(widget(page).locator("li.user_message")).to_have_count(1)
        expect(widget(page).locator(BOT_LINE)).to_have_count(3)

        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
        say(page, "are you a real person")
        expect(widget(page).get_by_role("alert")).not_to_be_empty()
        app = _start_app(env, port)

        expect(widget(page).locator(BOT_LINE).filter(has_text="chatbot, not a person")).to_have_count(1, timeout=30000)
        say(page, "goodbye")
        expect(widget(page).locator(BOT_LINE).filter(has_text="Take care")).to_have_count(1, timeout=30000)
        texts = widget(page).locator("li.user_message").all_inner_texts()
        assert [text.split("\n")[-1] for text in texts] == ["hi", "are you a real person", "goodbye"]
        assert widget(page).locator("li.pending").count() == 0
        seqs = [
            int(seq)
            for seq in widget(page)
            .locator("li[data-seq]")
            .evaluate_all("(items) => items.map((item) => item.dataset.seq)")
        ]
        assert seqs == sorted(set(seqs)), "every event shown once, in order"
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)


@pytest.mark.parametrize(
    ("width", "height", "why"), [(320, 568, "a small phone"), (640, 400, "a 1280x800 screen at 200% zoom")]
)
def test_usable_on_a_small_phone_and_at_200_percent_zoom(page: Page, service, width, height, why) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_chat(page, service.base_url)
    panel = widget(page).get_by_role("dialog").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width, why
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= height, why
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, why
    for name in ["Type your message", "Send"]:
        target = widget(page).get_by_role("button", name=name) if name == "Send" else widget(page).get_by_label(name)
        expect(target).to_be_in_viewport()
    expect(widget(page).get_by_role("link", name=re.compile("0800 1111"))).to_be_in_viewport()
    # Everything works from the keyboard: Tab reaches the message box and Enter sends.
    widget(page).get_by_label("Type your message").fill("hi")
    page.keyboard.press("Enter")
    expect(widget(page).locator("li.user_message")).to_have_count(1)
