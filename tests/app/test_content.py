"""Every user-facing word: readable for its age band, short enough for a phone, and sourced.

Reading ease uses the Flesch formula (textstat): at least 70 for the under-13
variants (a reading age of about 9 to 11), at least 60 for everything else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import textstat
import yaml

PROJECT = Path(__file__).resolve().parents[2]
DOMAIN_PATH = PROJECT / "domain.yml"
APP_CONTENT_PATH = PROJECT / "content" / "app.yml"

MAX_MESSAGE_CHARS = 320  # about what a phone shows without scrolling inside one bubble
UNDER_13_READING_EASE = 70
READING_EASE = 60
FACT_MARKERS = re.compile(
    r"\b(law|illegal|crime|police|outcome 21|consent|criminal|report remove|take it down|stopncii|ceop|"
    r"revenge porn|childline|samaritans|shout|0800|999|101|116 123|85258|0345)\b",
    re.IGNORECASE,
)


def domain_variants() -> list[tuple[str, str, str | None]]:
    """(response, text, age band condition) for every variant in domain.yml."""
    responses = yaml.safe_load(DOMAIN_PATH.read_text())["responses"]
    variants = []
    for name, options in responses.items():
        for option in options:
            band = next(
                (c["value"] for c in option.get("condition", []) if c.get("name") == "age_band"),
                None,
            )
            variants.append((name, option["text"], band))
    return variants


def app_messages() -> list[tuple[str, str]]:
    content = yaml.safe_load(APP_CONTENT_PATH.read_text())
    messages = [(key, text) for key, entry in content.items() if key != "errors" for text in entry["messages"]]
    return messages + [(f"errors.{key}", text) for key, text in content["errors"].items()]


def reading_ease(text: str) -> float:
    return textstat.flesch_reading_ease(text)


@pytest.mark.parametrize(("name", "text", "band"), domain_variants(), ids=lambda value: str(value)[:40])
def test_every_bot_message_is_readable_and_short(name: str, text: str, band: str | None) -> None:
    assert len(text) <= MAX_MESSAGE_CHARS, f"{name}: {len(text)} characters"
    floor = UNDER_13_READING_EASE if band == "under_13" else READING_EASE
    assert reading_ease(text) >= floor, f"{name} ({band or 'default'}): reading ease {reading_ease(text):.0f}"


@pytest.mark.parametrize(("key", "text"), app_messages(), ids=lambda value: str(value)[:40])
def test_every_app_message_is_readable_and_short(key: str, text: str) -> None:
    assert len(text) <= MAX_MESSAGE_CHARS, f"{key}: {len(text)} characters"
    filled = re.sub(r"\{[a-z_]+\}", "2", text)
    assert reading_ease(filled) >= READING_EASE, f"{key}: {reading_ease(filled):.0f}"


def response_blocks() -> dict[str, str]:
    """The raw YAML of each response, comments included."""
    text = DOMAIN_PATH.read_text()
    section = text[text.index("\nresponses:\n") : text.index("\nactions:\n")]
    blocks = re.split(r"\n(?=  utter_[a-z0-9_]+:\n)", section)
    return {block.split(":", 1)[0].strip(): block for block in blocks if block.startswith("  utter_")}


@pytest.mark.parametrize(("name", "block"), sorted(response_blocks().items()), ids=lambda value: str(value)[:40])
def test_every_fact_in_a_response_has_a_stated_source(name: str, block: str) -> None:
    texts = " ".join(line for line in block.splitlines() if line.strip().startswith(("text:", "- text:")))
    if FACT_MARKERS.search(texts):
        assert "# Source:" in block, f"{name} states a fact about the law or a service without a '# Source:' comment"


def test_every_app_message_with_a_fact_lists_its_sources() -> None:
    content = yaml.safe_load(APP_CONTENT_PATH.read_text())
    for key, entry in content.items():
        if key == "errors":
            continue
        if any(FACT_MARKERS.search(text) for text in entry["messages"]):
            assert entry.get("sources"), f"{key} has no sources"


def test_the_numbers_are_the_ones_in_the_safeguarding_guide() -> None:
    everything = DOMAIN_PATH.read_text() + APP_CONTENT_PATH.read_text()
    for number in re.findall(r"\b0\d{3} ?\d{3,4} ?\d{3,4}\b", everything):
        assert number in {"0800 1111", "0345 6000 459", "0808 800 5000"}, number


def test_the_bot_says_it_is_a_bot_first_and_never_asks_for_images() -> None:
    content = yaml.safe_load(APP_CONTENT_PATH.read_text())
    assert "chatbot" in content["welcome"]["messages"][0].lower()
    every_text = " ".join(text for _, text, _ in domain_variants()) + " ".join(text for _, text in app_messages())
    assert not re.search(r"\bsend (me|us) (the|a|your) (pic|picture|photo|image|screenshot)", every_text, re.IGNORECASE)
    assert not re.search(r"\bwhat('s| is) your name\b|\bwhich school\b|\byour address\b", every_text, re.IGNORECASE)


def test_under_13_variants_exist_where_pictures_or_the_law_are_explained() -> None:
    bands = {(name, band) for name, _, band in domain_variants()}
    for name in ["utter_law", "utter_removal", "utter_image_shared", "utter_unwanted_image", "utter_saying_no"]:
        assert (name, "under_13") in bands, name
    for name in ["utter_removal", "utter_image_shared", "utter_sent_image", "utter_law"]:
        assert (name, "18_plus") in bands, name
