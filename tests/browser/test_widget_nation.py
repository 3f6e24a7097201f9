"""The widget's data-nation reaches the dialogue and changes what the law answer says (real Chromium, real service)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_widget import BOT_LINE, chat, launcher, say

# (data-nation, words only that nation's law answer has)
NATIONS = [("scotland", "established relationship"), ("wales", "married or live together")]


def host_page(base_url: str, nation: str) -> str:
    """A page of the embedding website, with the one line the README gives."""
    return (
        "<!doctype html><html lang='en'><title>A helpline</title><main><h1>A helpline</h1></main>"
        f"<script src='{base_url}/widget.js' defer data-service-name='Helpline chat' data-nation='{nation}'></script>"
    )


@pytest.mark.parametrize(("nation", "law"), NATIONS)
def test_the_embedding_sites_nation_sets_the_law_text(page: Page, service, nation: str, law: str) -> None:
    # Served at the service's own origin, which may always show the chat.
    page.route(
        f"{service.base_url}/embedded",
        lambda route: route.fulfill(content_type="text/html", body=host_page(service.base_url, nation)),
    )
    page.goto(f"{service.base_url}/embedded")
    launcher(page).get_by_role("button", name="Chat with us").click()
    expect(chat(page).locator(BOT_LINE).first).to_contain_text("chatbot")
    say(page, "whats the law on sending nudes")
    expect(chat(page).locator(BOT_LINE).filter(has_text=law)).to_have_count(1)
