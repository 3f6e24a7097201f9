"""The widget in a real browser (Debian's Chromium via Playwright) against the real running service.

Most tests use a helpline's website on another origin (service.embedding_site_url)
that embeds the widget with the README's exact line, as a real website would.
"""

from __future__ import annotations

import json
import re
import signal
import time

import httpx
import pytest
from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect

from devtools.console import ConsoleClient, create_account
from devtools.processes import free_port
from tests.browser.conftest import EXIT_URL, axe_violations
from tests.running_service import start_app

BOT_LINE = "li.bot_message"
FRAME = "#youthchat-chat"


def launcher(page: Page) -> Locator:
    """What the widget draws on the host page itself: the launcher and Quick exit."""
    return page.locator("#youthchat-widget")


def chat(page: Page) -> FrameLocator:
    return page.frame_locator(FRAME)


def chat_frame(page: Page) -> Frame:
    expect(chat(page).locator("body")).to_be_attached()
    return next(frame for frame in page.frames if "/widget/frame" in frame.url)


def open_chat(page: Page, site_url: str) -> None:
    page.goto(site_url)
    launcher(page).get_by_role("button", name="Chat with us").click()
    expect(chat(page).locator(BOT_LINE).first).to_contain_text("chatbot")


def say(page: Page, text: str) -> None:
    box = chat(page).get_by_label("Type your message")
    box.fill(text)
    box.press("Enter")


def test_a_whole_conversation_on_another_website(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    expect(page.locator(FRAME)).to_be_visible()
    expect(chat(page).get_by_role("dialog")).to_be_visible()
    expect(chat(page).get_by_label("Type your message")).to_be_focused()
    bots = chat(page).locator(BOT_LINE).count()
    say(page, "a pic of me has been sent round my whole school")
    expect(chat(page).locator("li.user_message")).to_have_count(1)
    age = chat(page).get_by_role("button", name="13 to 15")
    expect(age).to_be_visible()
    age.click()
    expect(chat(page).locator(BOT_LINE).filter(has_text="Report Remove")).to_have_count(1)
    assert chat(page).locator(BOT_LINE).count() > bots
    link = chat(page).locator("a", has_text="childline.org.uk").first
    assert link.get_attribute("rel") == "noopener noreferrer"
    # Helpline numbers stay in reach.
    expect(chat(page).get_by_role("link", name=re.compile("0800 1111"))).to_be_visible()


def test_brand_colours_and_nation_come_from_the_embed(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    embed = page.locator("script[src$='/widget.js']")
    colour = embed.get_attribute("data-colour")
    rgb = "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))
    expect(chat(page).locator("header")).to_have_css("background-color", rgb)
    setup = json.loads(chat_frame(page).locator("#setup").text_content())
    assert setup["nation"] == embed.get_attribute("data-nation")
    expect(chat(page).get_by_role("heading")).to_have_text(embed.get_attribute("data-service-name"))


def test_an_escalation_shows_the_status_change(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    say(page, "someone i met online says hell post my nudes unless i pay him £50. im 15")
    expect(chat(page).get_by_role("status")).to_have_text("Finding a helpline worker for you…")
    expect(chat(page).locator(BOT_LINE).filter(has_text="999").first).to_be_visible()


def a_worker_takes_the_newest_case_and_replies(base_url: str, database_url: str, text: str) -> None:
    """A helpline worker signs in to the console, claims the case that opened last and writes to the young person."""
    name = f"worker{time.monotonic_ns()}"
    password = create_account(database_url, name)
    with httpx.Client(base_url=base_url) as http:
        console = ConsoleClient(http)
        console.sign_in(name, password)
        case = max(console.state()["queue"], key=lambda item: item["created_at"])
        assert console.api("POST", f"/console/api/cases/{case['id']}/claim").status_code == 200
        sent = console.api("POST", f"/console/api/cases/{case['id']}/messages", {"text": text})
        assert sent.status_code < 300, sent.text


def test_a_helpline_worker_reply_arrives_in_the_widget(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    say(page, "hes blackmailing me and says hell send the video to my school if i dont send more")
    expect(chat(page).get_by_role("status")).to_have_text("Finding a helpline worker for you…")
    a_worker_takes_the_newest_case_and_replies(service.base_url, service.database_url, "Hi, I'm Sam from the helpline.")

    expect(chat(page).get_by_role("status")).to_have_text("You're talking to a helpline worker.")
    reply = chat(page).locator("li.human_message")
    expect(reply).to_contain_text("Hi, I'm Sam from the helpline.")
    expect(reply.locator(".who")).to_have_text("Helpline worker")


def shown_seqs(page: Page) -> list[int]:
    return [
        int(seq)
        for seq in chat(page).locator("li[data-seq]").evaluate_all("(items) => items.map((item) => item.dataset.seq)")
    ]


def test_a_message_sent_while_a_reply_was_on_its_way_takes_its_place_after_it(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    say(page, "hes blackmailing me and says hell send the video to my school if i dont send more")
    expect(chat(page).get_by_role("status")).to_have_text("Finding a helpline worker for you…")
    held = []
    page.route("**/messages", lambda route: held.append(route))
    with page.expect_request("**/messages"):
        say(page, "are you still there")
    expect(chat(page).locator("li.user_message.pending")).to_have_count(1)

    a_worker_takes_the_newest_case_and_replies(service.base_url, service.database_url, "Hi, I'm Sam from the helpline.")
    expect(chat(page).locator("li.human_message")).to_have_count(1)
    assert len(held) == 1, "the young person's message was held on its way while the worker replied"
    held[0].continue_()
    expect(chat(page).locator("li.user_message.pending")).to_have_count(0)

    seqs = shown_seqs(page)
    assert seqs == sorted(set(seqs)), "every event shown once, in order"
    expect(chat(page).locator("li[data-seq]").last).to_contain_text("are you still there")


def test_the_host_page_cannot_read_the_token_or_any_message(page: Page, service) -> None:
    # A third-party script on the host page (analytics, ads) hears every message posted to the page.
    page.add_init_script("window.heard = []; addEventListener('message', (e) => heard.push(e.data));")
    open_chat(page, service.embedding_site_url)
    say(page, "my ex is sharing a pic of me")
    expect(chat(page).locator("li.user_message:not(.pending)")).to_have_count(1)
    expect(chat(page).locator(BOT_LINE)).not_to_have_count(1)
    stored = json.loads(chat_frame(page).evaluate("() => sessionStorage.getItem('youthchat.conversation')"))
    bot_words = chat(page).locator(BOT_LINE).last.inner_text().split("\n")[-1]

    seen_by_host = page.evaluate(
        """() => {
            const frame = document.querySelector("#youthchat-widget").shadowRoot.querySelector("iframe");
            const attempts = {};
            const reads = {
                document: () => frame.contentWindow.document.body.innerText,
                sessionStorage: () => JSON.stringify(frame.contentWindow.sessionStorage),
                localStorage: () => JSON.stringify(frame.contentWindow.localStorage),
                frames: () => frame.contentDocument.body.innerText,
            };
            for (const [name, read] of Object.entries(reads)) {
                try { attempts[name] = read(); } catch (error) { attempts[name] = error.name; }
            }
            return {
                attempts,
                page: document.documentElement.outerHTML + document.querySelector("#youthchat-widget").shadowRoot.innerHTML,
                storage: JSON.stringify({...sessionStorage, ...localStorage}),
                cookies: document.cookie,
                heard: JSON.stringify(window.heard),
                requests: performance.getEntries().map((entry) => entry.name).join(" "),
                frame: frame.src,
            };
        }"""
    )
    assert seen_by_host["attempts"] == {
        "document": "SecurityError",
        "sessionStorage": "SecurityError",
        "localStorage": "SecurityError",
        "frames": "TypeError",  # contentDocument is null across origins
    }
    everything = json.dumps(seen_by_host)
    for secret in [stored["token"], "my ex is sharing a pic of me", bot_words]:
        assert secret not in everything
    assert seen_by_host["storage"] == "{}" and seen_by_host["cookies"] == ""


def assert_the_chat_is_gone(page: Page, site_url: str) -> None:
    page.wait_for_url(f"{EXIT_URL}**")
    page.go_back()
    assert not page.url.startswith(site_url), "Back must not return to the website"
    page.goto(site_url)
    assert chat_frame(page).evaluate("() => sessionStorage.length") == 0, "the chat's storage is wiped"
    assert page.evaluate("() => sessionStorage.length + document.cookie.length") == 0
    expect(page.locator(FRAME)).to_be_hidden()


def start_chatting(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    say(page, "hello")
    expect(chat(page).locator("li.user_message")).to_have_count(1)
    assert chat_frame(page).evaluate("() => sessionStorage.length") == 1


def test_quick_exit_with_esc_on_the_host_page(page: Page, service) -> None:
    start_chatting(page, service)
    page.get_by_role("heading", name="Worried about a picture?").click()  # focus back on the host page
    page.keyboard.press("Escape")
    assert_the_chat_is_gone(page, service.embedding_site_url)


def test_quick_exit_with_the_host_page_button(page: Page, service) -> None:
    start_chatting(page, service)
    chat(page).get_by_role("button", name="Close chat").click()
    launcher(page).get_by_role("button", name="Quick exit").click()
    assert_the_chat_is_gone(page, service.embedding_site_url)


def test_quick_exit_with_esc_inside_the_chat(page: Page, service) -> None:
    start_chatting(page, service)
    expect(chat(page).get_by_label("Type your message")).to_be_focused()
    page.keyboard.press("Escape")
    assert_the_chat_is_gone(page, service.embedding_site_url)


def test_quick_exit_with_the_button_inside_the_chat(page: Page, service) -> None:
    start_chatting(page, service)
    chat(page).get_by_role("dialog").get_by_role("button", name="Quick exit").click()
    assert_the_chat_is_gone(page, service.embedding_site_url)


def test_a_website_not_on_the_list_gets_childline_instead_of_a_chat(page: Page, service, unlisted_site) -> None:
    page.goto(unlisted_site.url)
    launcher(page).get_by_role("button", name="Chat with us").click()
    expect(launcher(page).get_by_role("alert")).to_contain_text("0800 1111")
    expect(launcher(page).get_by_role("link", name=re.compile("0800 1111"))).to_have_attribute("href", "tel:08001111")
    expect(page.locator(FRAME)).to_have_count(0)


def test_a_website_not_on_the_list_cannot_frame_the_chat(page: Page, service, unlisted_site) -> None:
    # Even pretending to be the listed website: the browser enforces frame-ancestors.
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
    page.goto(unlisted_site.url)
    page.evaluate(
        """(src) => new Promise((resolve) => {
            const frame = document.createElement("iframe");
            frame.id = "forged";
            frame.title = "forged";
            frame.addEventListener("load", resolve);
            frame.src = src;
            document.body.append(frame);
        })""",
        f"{service.base_url}/widget/frame?host={service.embedding_site_url}",
    )
    expect(page.frame_locator("#forged").locator("textarea")).to_have_count(0)
    assert not any(frame.url.startswith(service.base_url) for frame in page.frames if frame != page.main_frame)
    assert blocked, "Chromium reports the frame-ancestors refusal"


def test_while_the_chat_cannot_load_the_launcher_gives_childline_and_keeps_trying(page: Page, service) -> None:
    unreachable = re.compile(r".*/widget/frame\?.*")
    page.route(unreachable, lambda route: route.abort("connectionrefused"))
    page.goto(service.embedding_site_url)
    launcher(page).get_by_role("button", name="Chat with us").click()
    expect(launcher(page).get_by_role("alert")).to_contain_text("We can't connect right now")
    expect(launcher(page).get_by_role("link", name=re.compile("0800 1111"))).to_be_visible()
    page.unroute(unreachable)
    expect(chat(page).locator(BOT_LINE).first).to_contain_text("chatbot", timeout=15000)
    expect(chat(page).get_by_label("Type your message")).to_be_focused()
    expect(launcher(page).get_by_role("alert")).to_be_hidden()


def test_focus_moves_into_the_chat_and_back_to_the_launcher(page: Page, service) -> None:
    page.goto(service.embedding_site_url)
    open_button = launcher(page).get_by_role("button", name="Chat with us")
    expect(open_button).to_have_attribute("aria-expanded", "false")
    for _ in range(4):
        page.keyboard.press("Tab")
        if open_button.evaluate("(element) => element.getRootNode().activeElement === element"):
            break
    page.keyboard.press("Enter")
    expect(chat(page).get_by_label("Type your message")).to_be_focused()
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    expect(chat(page).locator("li.user_message")).to_have_count(1)
    chat(page).get_by_role("button", name="Close chat").focus()
    page.keyboard.press("Enter")
    expect(page.locator(FRAME)).to_be_hidden()
    expect(open_button).to_be_focused()
    expect(open_button).to_have_attribute("aria-expanded", "false")


def test_the_chat_resumes_after_the_host_page_reloads(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    say(page, "are you a real person")
    expect(chat(page).locator(BOT_LINE).last).to_contain_text("chatbot, not a person")
    shown = chat(page).locator("li").evaluate_all("items => items.map((item) => item.dataset.seq)")
    page.reload()
    expect(page.locator(FRAME)).to_be_visible()
    expect(chat(page).locator("li.user_message")).to_contain_text(["are you a real person"])
    # Every event once, in order: nothing lost, nothing repeated (the greeting says "chatbot" too).
    expect(chat(page).locator("li")).to_have_count(len(shown))
    assert chat(page).locator("li").evaluate_all("items => items.map((item) => item.dataset.seq)") == shown


def test_delete_my_chat(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    say(page, "hello")
    expect(chat(page).locator("li.user_message:not(.pending)")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    chat(page).get_by_role("button", name="Delete my chat").click()
    expect(chat(page).get_by_role("alert")).to_have_text("Your chat has been deleted.")
    expect(chat(page).locator("li")).to_have_count(0)
    assert chat_frame(page).evaluate("() => sessionStorage.length") == 0
    # Writing again starts a new chat: the message is sent and answered, not left pending.
    say(page, "are you a real person")
    expect(chat(page).locator("li.user_message:not(.pending)")).to_have_count(1)
    expect(chat(page).locator(BOT_LINE).last).to_contain_text("chatbot, not a person")


def test_a_pasted_image_is_refused_kindly(page: Page, service) -> None:
    open_chat(page, service.embedding_site_url)
    box = chat(page).get_by_label("Type your message")
    box.focus()
    box.evaluate(
        """(element) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array([137, 80, 78, 71])], "photo.png", {type: "image/png"}));
            element.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    expect(chat(page).get_by_role("alert")).to_contain_text("Pictures and files can't be sent here")
    expect(chat(page).locator("li.user_message")).to_have_count(0)
    assert chat(page).locator("input[type=file]").count() == 0


def test_no_accessibility_violations_and_screenshots(axe_page: Page, service, artifacts) -> None:
    page = axe_page
    page.goto(service.embedding_site_url)
    assert axe_violations(page) == []
    open_chat(page, service.embedding_site_url)
    say(page, "are you a bot")
    expect(chat(page).locator(BOT_LINE).filter(has_text="chatbot, not a person")).to_be_visible()
    assert axe_violations(page) == []
    assert axe_violations(chat_frame(page)) == []
    page.screenshot(path=str(artifacts / "widget-embedded-desktop.png"))
    page.set_viewport_size({"width": 320, "height": 640})
    assert axe_violations(page) == []
    assert axe_violations(chat_frame(page)) == []
    page.screenshot(path=str(artifacts / "widget-embedded-320px.png"))


@pytest.mark.parametrize("transport", ["websocket", "long-polling"])
def test_reconnects_after_the_app_restarts_without_losing_or_repeating_messages(page: Page, service, transport) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(service.app_env)
    app = start_app(env, port)
    try:
        if transport == "long-polling":
            page.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
        open_chat(page, f"{base}/")
        say(page, "hi")
        expect(chat(page).locator("li.user_message")).to_have_count(1)
        expect(chat(page).locator(BOT_LINE)).to_have_count(3)

        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
        say(page, "are you a real person")
        expect(chat(page).get_by_role("alert")).not_to_be_empty()
        app = start_app(env, port)

        expect(chat(page).locator(BOT_LINE).filter(has_text="chatbot, not a person")).to_have_count(1, timeout=30000)
        say(page, "goodbye")
        expect(chat(page).locator(BOT_LINE).filter(has_text="Take care")).to_have_count(1, timeout=30000)
        texts = chat(page).locator("li.user_message").all_inner_texts()
        assert [text.split("\n")[-1] for text in texts] == ["hi", "are you a real person", "goodbye"]
        assert chat(page).locator("li.pending").count() == 0
        seqs = shown_seqs(page)
        assert seqs == sorted(set(seqs)), "every event shown once, in order"
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)


@pytest.mark.parametrize(
    ("width", "height", "why"), [(320, 568, "a small phone"), (640, 400, "a 1280x800 screen at 200% zoom")]
)
def test_full_screen_on_a_small_phone_and_at_200_percent_zoom(page: Page, service, width, height, why) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_chat(page, service.embedding_site_url)
    frame = page.locator(FRAME).bounding_box()
    assert (frame["x"], frame["y"], frame["width"], frame["height"]) == (0, 0, width, height), why
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, why
    for target in [
        chat(page).get_by_label("Type your message"),
        chat(page).get_by_role("button", name="Send"),
        chat(page).get_by_role("button", name="Quick exit"),
        chat(page).get_by_role("link", name=re.compile("0800 1111")),
    ]:
        expect(target).to_be_in_viewport()
    chat(page).get_by_label("Type your message").fill("hi")
    page.keyboard.press("Enter")
    expect(chat(page).locator("li.user_message")).to_have_count(1)
