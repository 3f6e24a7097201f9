"""Every user-facing word: readable for its age band, short enough for a phone, sourced, and true.

Reading ease uses the Flesch formula (textstat): at least 70 for whatever a child
under 13 can read (a reading age of about 9 to 11), at least 60 for everything
else. The facts of ../shared/SAFEGUARDING.md that must never regress each have a
test below, run over every variant a young person of each age band and nation
can be given, the way Rasa picks one.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import textstat
import yaml

PROJECT = Path(__file__).resolve().parents[2]
DOMAIN_PATH = PROJECT / "domain.yml"
APP_CONTENT_PATH = PROJECT / "content" / "app.yml"
RULES_PATH = PROJECT / "data" / "rules.yml"
POLICY_PATH = PROJECT / "data" / "safeguarding" / "policy.yml"

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
    """The app's words (the handoff notices, the come-back code, errors) have no variant by age:
    a child under 13 reads them too."""
    assert len(text) <= MAX_MESSAGE_CHARS, f"{key}: {len(text)} characters"
    filled = re.sub(r"\{[a-z_]+\}", "2", text)
    assert reading_ease(filled) >= UNDER_13_READING_EASE, f"{key}: {reading_ease(filled):.0f}"
    assert not UNDER_13_JARGON.search(text), f"{key}: {UNDER_13_JARGON.search(text).group()!r}"


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
        assert number in {"0800 1111", "0345 6000 459", "0808 800 5000", "0800 068 4141"}, number


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
    for name in ["utter_removal", "utter_image_shared", "utter_sent_image", "utter_law", "utter_fake_image_help"]:
        assert (name, "18_plus") in bands, name


# --- what each young person is given, chosen the way Rasa chooses -------------------
# Rasa picks at random among every conditional variant whose slots all match, and
# uses a variant without a condition only when none match
# (rasa.core.nlg.generator.ResponseVariationFilter).
AGE_BANDS = [None, "under_13", "13_15", "16_17", "18_plus", "declined"]
NATIONS = [None, "england", "wales", "scotland", "northern_ireland", "outside_uk"]
# Answers only an adult asking about a child is given.
FOR_ADULTS_ONLY = {"utter_worried_adult"}
# Words a child under 13 should not have to know (SAFEGUARDING.md, How the bot talks: "No jargon").
UNDER_13_JARGON = re.compile(
    r"\b(outcome 21|sextortion|ceop|101|dbs|conviction|caution|prosecut\w*|criminal record|indecent|anonymous|"
    r"revenge porn|stopncii|coerc\w*|groom\w*|cyberflash\w*|hash\w*|iwf|evidence|enhanced)\b",
    re.IGNORECASE,
)


@cache
def responses() -> dict[str, list[dict]]:
    return yaml.safe_load(DOMAIN_PATH.read_text())["responses"]


def variants_for(options: list[dict], age_band: str | None, nation: str | None) -> list[str]:
    slots = {"age_band": age_band, "nation": nation}
    conditional = [o for o in options if o.get("condition")]
    matching = [o for o in conditional if all(slots.get(c["name"]) == c["value"] for c in o["condition"])]
    return [o["text"] for o in matching or [o for o in options if not o.get("condition")]]


def text_for(name: str, age_band: str | None, nation: str | None) -> str:
    (text,) = variants_for(responses()[name], age_band, nation)
    return text


def everyone() -> list[tuple[str | None, str | None]]:
    return [(band, nation) for band in AGE_BANDS for nation in NATIONS]


def plain(text: str) -> str:
    return text.replace("\u2019", "'")


def flow(intent: str) -> list[str]:
    """The responses a dialogue rule gives for an intent, in order."""
    for rule in yaml.safe_load(RULES_PATH.read_text())["rules"]:
        steps = rule["steps"]
        if steps[0].get("intent") == intent:
            return [step["action"] for step in steps if step.get("action", "").startswith("utter_")]
    raise AssertionError(f"no rule for {intent}")


def handoff_advice(trigger: str) -> list[str]:
    """The responses given with an automatic handoff that `trigger` causes (read from the safety policy)."""
    for group in yaml.safe_load(POLICY_PATH.read_text())["handoff_advice"]:
        if trigger in group["when"]:
            return group["say"]
    raise AssertionError(f"no handoff advice for {trigger}")


def said(names: list[str], age_band: str | None, nation: str | None) -> str:
    return plain(" ".join(text_for(name, age_band, nation) for name in names))


@pytest.mark.parametrize("name", sorted(responses()))
def test_every_young_person_is_given_exactly_one_variant(name: str) -> None:
    """A response varies by age band or by nation in a way that never leaves Rasa a random pick."""
    for band, nation in everyone():
        chosen = variants_for(responses()[name], band, nation)
        assert len(chosen) == 1, f"{name} for {band}/{nation}: {len(chosen)} variants to pick from"


@pytest.mark.parametrize("name", sorted(set(responses()) - FOR_ADULTS_ONLY))
def test_what_a_child_under_13_reads_is_plain_and_easy(name: str) -> None:
    for nation in NATIONS:
        text = text_for(name, "under_13", nation)
        assert not UNDER_13_JARGON.search(text), f"{name} ({nation}): {UNDER_13_JARGON.search(text).group()!r}"
        assert reading_ease(text) >= UNDER_13_READING_EASE, f"{name} ({nation}): {reading_ease(text):.0f}"


def every_text() -> list[tuple[str, str]]:
    return [(name, text) for name, text, _ in domain_variants()] + app_messages()


NOT_CHARGED = re.compile(
    r"\b(not|never|won't|wouldn't|will not|would not)\b(\s+\w+){0,3}\s+(charged|prosecuted|arrested|convicted)\b"
    r"|\b(not|no) (a )?criminal record\b",
    re.IGNORECASE,
)


def test_no_response_promises_not_being_charged() -> None:
    """Outcome 21 is a police decision, not a promise (SAFEGUARDING.md, Advice)."""
    for name, text in every_text():
        assert not NOT_CHARGED.search(plain(text)), f"{name}: {text}"


def test_taking_it_no_further_is_only_said_of_england_and_wales() -> None:
    """Outcome 21 exists in England and Wales only, and is never promised."""
    for name, options in responses().items():
        for option in options:
            text = option["text"]
            if re.search(r"outcome 21|no further", text, re.IGNORECASE):
                nations = {c["value"] for c in option.get("condition", []) if c["name"] == "nation"}
                assert nations <= {"england", "wales"} and (nations or "England and Wales" in text), name
                assert "not a promise" in text, name


def test_every_police_answer_says_first_that_a_pressured_young_person_is_not_in_trouble() -> None:
    for intent in ["ask_law", "ask_police", "ask_police_talk"]:
        for band, nation in everyone():
            first = plain(said(flow(intent)[:1], band, nation))
            assert re.search(r"not in trouble|not your fault", first), f"{intent} ({band}): {first}"


def test_scotland_has_its_exception_for_16_and_17_year_olds_in_an_established_relationship() -> None:
    """Civic Government (Scotland) Act 1982 s52B; nothing says the law is the same across the UK."""
    for band in AGE_BANDS:
        scotland = said(["utter_law_nation"], band, "scotland")
        assert "16 or 17" in scotland and "established relationship" in scotland
        assert "same across the UK" not in said(["utter_law_nation"], band, None)


def test_confidentiality_is_honest_about_every_limit() -> None:
    """A person is brought in without asking when something serious comes up; staff read some chats afterwards."""
    for band in AGE_BANDS:
        words = said(flow("ask_confidentiality"), band, None)
        assert "something serious" in words and "straight away" in words, band
        assert re.search(r"read (some )?chats (later|afterwards)", words), band
        assert "try to talk to you first" in words, band
        assert not re.search(r"\b(100%|totally|completely) (private|secret|confidential)", words), band


def test_an_unwanted_picture_is_told_to_an_adult_before_it_is_deleted_and_the_username_noted() -> None:
    for band in AGE_BANDS:
        words = said(["utter_unwanted_image"], band, None).lower()
        assert words.index("tell") < words.index("delete"), band
        assert "username" in words or "name of the account" in words, band
        assert re.search(r"never (screenshot|save)", words), band


def test_evidence_of_a_shared_picture_never_includes_the_picture_itself() -> None:
    for band in AGE_BANDS:
        words = said(["utter_image_shared_next"], band, None).lower()
        assert re.search(r"never (screenshot|save)", words) and "picture" in words, band


AGE_IN_THE_PICTURE = re.compile(
    r"how old you were in the picture|you were under 18 in (the picture|it)|the picture shows you under 18"
)


def test_every_adult_removal_answer_asks_the_age_in_the_picture() -> None:
    """StopNCII and the Revenge Porn Helpline are for pictures taken at 18 or over; Take It Down for under 18."""
    for name, text, band in domain_variants():
        for_adults = band == "18_plus" or re.search(r"StopNCII|Revenge Porn", text)
        if for_adults and re.search(r"StopNCII|Revenge Porn|Take It Down|Report Remove", text):
            assert AGE_IN_THE_PICTURE.search(text), f"{name} ({band}): {text}"
            assert "Take It Down" in text, f"{name} ({band})"


def test_every_critical_answer_gives_999_childline_papyrus_and_shout() -> None:
    content = yaml.safe_load(APP_CONTENT_PATH.read_text())
    app_words = " ".join(content["handoff_started_critical"]["messages"])
    for band, nation in everyone():
        for words in [
            said(handoff_advice("immediate_risk"), band, nation),
            said(flow("disclose_self_harm"), band, nation),
        ]:
            for needed in ["999", "0800 1111", "Papyrus HOPELINE247", "0800 068 4141", "85258"]:
                assert needed in words, f"{band}/{nation}: {needed}"
    for needed in ["999", "0800 1111", "Papyrus HOPELINE247", "0800 068 4141", "85258"]:
        assert needed in app_words, needed


def test_every_sextortion_answer_says_dont_pay_and_dont_delete() -> None:
    """National Crime Agency advice, 2024, and the NCA's alert that the picture may be fake."""
    for band, nation in everyone():
        for words in [
            said(handoff_advice("disclose_sextortion"), band, nation),
            said(flow("disclose_sextortion"), band, nation),
        ]:
            assert "don't pay" in words.lower() and "don't delete" in words.lower(), f"{band}/{nation}"
            assert "trust" in words, f"{band}/{nation}: tell a trusted adult"
            assert re.search(r"fake|not even be real", words), f"{band}/{nation}: it may be fake"
            assert re.search(r"never (the nude|save the picture)", words.lower()), (
                f"{band}/{nation}: never the nude itself"
            )


def test_what_sextortion_is_says_it_may_be_fake_and_targets_boys_most() -> None:
    words = said(["utter_threats_info"], None, None)
    assert "boys" in words and "fake" in words


def test_every_threat_or_pressure_handoff_says_dont_pay() -> None:
    """SAFEGUARDING.md (NCA advice): a threat over pictures is sextortion whatever is demanded, and pressure
    the risk model finds may be either."""
    for trigger in ["disclose_threat_to_share", "threat_word", "fame_threat", "deadline", "coercion"]:
        for band, nation in everyone():
            assert "don't pay" in said(handoff_advice(trigger), band, nation).lower(), f"{trigger} {band}/{nation}"


def test_an_adult_contacting_a_child_is_told_it_is_not_their_fault_and_a_crime() -> None:
    for band, nation in everyone():
        words = said(handoff_advice("disclose_adult_involved"), band, nation)
        assert "It's not your fault" in words and "what they are doing is a crime" in words.lower(), band
        # At 16 and 17 too: the law on sexual messages stops at 16, the law on images at 18.
        assert band == "under_13" or "under 18" in words, band


def test_the_services_for_18_year_olds_parents_and_outside_the_uk_are_named() -> None:
    assert "anyone under 19" in said(["utter_scope"], "18_plus", None)
    assert "0808 800 5000" in said(flow("inform_worried_adult"), None, None)
    assert "Child Helpline International" in said(["utter_law_nation"], None, "outside_uk")
    assert "Papyrus" not in said(["utter_law_nation"], None, "outside_uk")


def test_a_reply_later_is_promised_only_while_the_page_stays_open() -> None:
    """The chat lives only in the tab: a child who closes it can never see a later reply."""
    content = yaml.safe_load(APP_CONTENT_PATH.read_text())
    for key in ["handoff_nobody_on_shift", "handoff_wait_unknown"]:
        words = " ".join(content[key]["messages"])
        assert "only see" in words and "page stays open" in words, key
        assert "0800 1111" in words and "999" in words, key
    for key, text in app_messages():
        assert not re.search(r"stays saved|chat is saved|will reply when", text), key
