"""The widget's frame: who may embed it (BOT_EMBED_ORIGINS), the headers that enforce it, no CORS; and its words."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import textstat
import yaml
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings, embed_origins
from tests.app.conftest import make_settings
from tests.app.test_content import UNDER_13_JARGON, UNDER_13_READING_EASE

WIDGET_WORDS = Path(__file__).resolve().parents[2] / "content" / "widget.yml"

HELPLINE = "https://www.example-helpline.org.uk"
SCHOOL = "http://127.0.0.1:8081"


@pytest.fixture
def widget_client(sqlite_url: str) -> Iterator[TestClient]:
    settings = make_settings(sqlite_url, embed_origins=(HELPLINE, SCHOOL))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def frame_setup(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="setup">(.*?)</script>', page, re.S).group(1))


def test_the_allow_list_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("BOT_EMBED_ORIGINS", f"{HELPLINE}/, {SCHOOL}\n  HTTPS://Other.Example.org")
    assert Settings().embed_origins == (HELPLINE, SCHOOL, "https://other.example.org")
    monkeypatch.delenv("BOT_EMBED_ORIGINS")
    assert Settings().embed_origins == (), "by default only the service's own pages show the chat"


@pytest.mark.parametrize(
    "wrong", ["*", "https://*.example.org", "https://example.org/help", "example.org", "ftp://x.org"]
)
def test_an_entry_that_is_not_an_origin_stops_the_app(wrong: str) -> None:
    with pytest.raises(ValueError, match="BOT_EMBED_ORIGINS"):
        embed_origins(f"{HELPLINE} {wrong}")


def test_only_the_service_and_listed_websites_may_frame_the_chat(widget_client: TestClient) -> None:
    response = widget_client.get("/widget/frame", params={"host": HELPLINE})
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["frame-ancestors"] == f"'self' {HELPLINE} {SCHOOL}"
    assert policy["connect-src"] == "'self'", "the frame talks only to its own origin"
    assert policy["script-src"] == "'self'" and policy["img-src"] == "'none'"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert frame_setup(response.text)["host"] == HELPLINE, "the frame answers the host page's origin only"


@pytest.mark.parametrize("host", [HELPLINE, SCHOOL, "http://127.0.0.1:8000"])
def test_a_listed_website_and_the_service_itself_get_the_chat(widget_client: TestClient, host: str) -> None:
    page = widget_client.get("/widget/frame", params={"host": host}).text
    assert 'role="dialog"' in page and "/widget/frame.js" in page

    # The young person's privacy page, in words they can read, is one click away.
    assert '<a href="/privacy"' in page
    assert widget_client.get("/privacy").status_code == 200


@pytest.mark.parametrize("host", ["https://evil.example.com", "http://127.0.0.1:9999", "", "javascript:alert(1)"])
def test_a_website_not_on_the_list_gets_childline_instead_of_a_chat(widget_client: TestClient, host: str) -> None:
    response = widget_client.get("/widget/frame", params={"host": host})
    assert response.status_code == 200
    assert "0800 1111" in response.text and "open on this website" in response.text
    assert "/widget/frame.js" not in response.text, "no chat starts"
    assert frame_setup(response.text)["host"] is None


def test_what_a_host_page_passes_is_checked(widget_client: TestClient) -> None:
    response = widget_client.get(
        "/widget/frame",
        params={
            "host": HELPLINE,
            "name": "</title><script>alert(1)</script>",
            "nation": "atlantis",
            "colour": "red;}</style>",
            "text_colour": "#fff",
            "exit_url": "javascript:alert(1)",
        },
    )
    setup = frame_setup(response.text)
    assert "<script>alert(1)" not in response.text
    assert setup["nation"] is None and setup["colour"] == "#4b2a83" and setup["text_colour"] == "#fff"
    assert setup["exit_url"] == "https://www.bbc.co.uk/weather"
    scotland = frame_setup(widget_client.get("/widget/frame", params={"host": HELPLINE, "nation": "scotland"}).text)
    assert scotland["nation"] == "scotland"


def test_the_loader_knows_the_list_and_carries_the_words(widget_client: TestClient) -> None:
    response = widget_client.get("/widget.js")
    assert response.headers["content-type"].startswith("text/javascript")
    setup = json.loads(re.search(r"const SETUP = (\{.*?\});\n", response.text).group(1))
    assert setup["embed_origins"] == [HELPLINE, SCHOOL]
    assert "0800 1111" in setup["words"]["unavailable"]
    for path in ["/widget/frame.js", "/widget/frame.css"]:
        assert widget_client.get(path).status_code == 200


def test_the_api_answers_no_cross_origin_request(widget_client: TestClient) -> None:
    """The frame calls the API from the API's own origin; nothing else in a browser should."""
    preflight = widget_client.options(
        "/api/conversations",
        headers={
            "Origin": HELPLINE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    started = widget_client.post("/api/conversations", headers={"Origin": HELPLINE})
    assert "access-control-allow-origin" not in started.headers
    assert "access-control-allow-origin" not in widget_client.get("/widget.js").headers


def test_the_widget_words_are_readable_and_give_the_right_numbers() -> None:
    words = yaml.safe_load(WIDGET_WORDS.read_text(encoding="utf-8"))
    assert words["sources"], "the numbers the widget shows need a source"
    for key, text in words.items():
        if isinstance(text, str) and len(text.split()) > 8:
            # Any child opens the chat, the come-back code's words too: the floor for under-13s.
            assert textstat.flesch_reading_ease(text) >= UNDER_13_READING_EASE, key
            assert not UNDER_13_JARGON.search(text), key
    for number in re.findall(r"\b(?:0\d{3} ?\d{3,4} ?\d{0,4}|999)\b", WIDGET_WORDS.read_text(encoding="utf-8")):
        assert number.strip() in {"0800 1111", "999"}, number
