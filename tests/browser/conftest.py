"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download), axe-core from npm."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page, sync_playwright

from devtools.processes import free_port
from tests.running_service import EmbeddingSite, conversation, service  # noqa: F401

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXIT_URL = "https://www.bbc.co.uk/weather"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def neutral_exit_page(page: Page) -> None:
    # The machine has no way out; the neutral exit page is served locally.
    page.route(
        f"{EXIT_URL}**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<title>Weather</title><p>Weather</p>"),
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    neutral_exit_page(page)
    yield page
    context.close()


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A page whose frames accept axe-core's injected script: the chat's frame allows only its own scripts."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def unlisted_site(service) -> Iterator[EmbeddingSite]:  # noqa: F811 (the service fixture)
    """A website with the same embed whose origin is not in BOT_EMBED_ORIGINS."""
    site = EmbeddingSite(service.base_url, free_port())
    yield site
    site.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def axe_violations(page: Page | Frame) -> list[dict]:
    """WCAG 2.2 AA problems in this page or frame; a frame inside it is checked on its own."""
    # The pages' Content-Security-Policy refuses inline script, so axe is served as if from the
    # page's own origin rather than inlined: the policy stays on in every browser test.
    url = re.match(r"https?://[^/]+", page.url).group(0) + "/__axe-core-for-tests.js"
    (page.page if isinstance(page, Frame) else page).route(
        url, lambda route: route.fulfill(path=str(AXE), content_type="text/javascript")
    )
    page.add_script_tag(url=url)
    result = page.evaluate(
        """async () => await axe.run(document, {iframes: false, runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})"""
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]
