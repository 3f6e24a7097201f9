"""The young person's privacy page: there, true to the service's settings, and easy to read."""

from __future__ import annotations

import re

import textstat
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.privacy.views import page_words
from tests.app.conftest import make_settings

# A reading age of about 9 to 11 (Flesch), as for the bot's words to under-13s.
CHILD_READING_EASE = 70


def test_the_page_says_the_real_retention_periods(sqlite_url) -> None:
    settings = make_settings(sqlite_url, transcript_retention_days=14, outcome_retention_days=365, comeback_hours=12)
    with TestClient(create_app(settings)) as client:
        page = client.get("/privacy")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = re.sub(r"\s+", " ", page.text)
    assert "14 days after the last message" in text and "after 1 year." in text
    assert "Delete my chat" in text and "life or safety is in danger" in text
    assert "one time, for 12 hours" in text and "cancels your come-back code" in text


def test_every_paragraph_reads_easily_for_a_ten_year_old(sqlite_url) -> None:
    words = page_words(make_settings(sqlite_url))
    paragraphs = [words["intro"]] + [text for section in words["sections"] for text in section["paragraphs"]]
    hard = {text: textstat.flesch_reading_ease(text) for text in paragraphs}
    assert {text: ease for text, ease in hard.items() if ease < CHILD_READING_EASE} == {}
