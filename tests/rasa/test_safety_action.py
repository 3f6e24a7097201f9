"""action_check_safety and action_hand_to_person over Tracker fixtures."""

import asyncio

import numpy as np
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_reading import assessor
from actions.handoff import ActionHandToPerson
from actions.safety import ActionCheckSafety
from safeguarding.encoder import MEANING_METADATA, as_metadata, load_encoder


def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher, events


def safety_payloads(dispatcher):
    return [m["custom"]["safety"] for m in dispatcher.messages if m.get("custom")]


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def event_names(events):
    return [e["event"] for e in events]


def slot_value(events, name):
    return next(e["value"] for e in events if e["event"] == "slot" and e["name"] == name)


def test_sextortion_hands_off_with_the_nca_advice_and_pauses(tracker_for, domain) -> None:
    tracker = tracker_for(
        ("im 15 and some guy says hell send my pics to my family unless i pay him £100", "disclose_sextortion", 0.97)
    )
    dispatcher, events = run(ActionCheckSafety(), tracker, domain)
    [decision] = safety_payloads(dispatcher)
    assert decision["action"] == "handoff" and decision["level"] == "high"
    assert "coercion" in decision["criteria"]
    assert decision["age_band"] == "13_15"
    assert responses(dispatcher) == ["utter_advice_sextortion", "utter_advice_sextortion_report"]
    assert event_names(events)[-1] == "pause"


@pytest.mark.parametrize(
    "text",
    [
        "he has my pic and says i have 10 mins left",
        "this guy i dont know says hes gonna make me famous, he screen recorded our facetime",
        "she says she'll expose me and she's got the pics",
    ],
)
def test_a_threat_over_pictures_hands_off_with_the_threat_advice(tracker_for, domain, text) -> None:
    # A threat over pictures is sextortion whatever is demanded (SAFEGUARDING.md, NCA advice): what that
    # advice says is tests/app/test_content.py's.
    dispatcher, _ = run(ActionCheckSafety(), tracker_for(text), domain)
    [decision] = safety_payloads(dispatcher)
    assert decision["action"] == "handoff" and "coercion" in decision["criteria"]
    assert responses(dispatcher)[0] == "utter_advice_threat_to_share"


def test_suicidal_thoughts_are_critical_with_999_first(tracker_for, domain) -> None:
    tracker = tracker_for("my nudes got leaked", ("i dont want to be alive anymore", "disclose_self_harm", 0.9))
    dispatcher, _ = run(ActionCheckSafety(), tracker, domain)
    [decision] = safety_payloads(dispatcher)
    assert decision["level"] == "critical"
    assert responses(dispatcher)[0] == "utter_advice_immediate_risk"


def test_an_ordinary_question_carries_a_none_decision_and_nothing_else(tracker_for, domain) -> None:
    tracker = tracker_for(("im 16, is it illegal to send a pic to my gf", "ask_law", 0.93))
    dispatcher, events = run(ActionCheckSafety(), tracker, domain)
    [decision] = safety_payloads(dispatcher)
    assert decision["action"] == "none" and decision["age_band"] == "16_17"
    assert events == []
    assert responses(dispatcher) == []


def test_a_hypothetical_gets_an_offer_once_not_every_turn(tracker_for, domain) -> None:
    first = ("what if someone threatened to post my pics", "ask_law", 0.6)
    dispatcher, events = run(ActionCheckSafety(), tracker_for(first), domain)
    assert responses(dispatcher) == ["utter_offer_human"]

    second = ("and what if they did threaten to", "ask_law", 0.6)
    offered = {"human_offered_at_turn": slot_value(events, "human_offered_at_turn")}
    dispatcher, _ = run(ActionCheckSafety(), tracker_for(first, second, slots=offered), domain)
    assert responses(dispatcher) == []


def test_a_case_that_ended_is_not_reopened_by_the_same_words(tracker_for, domain) -> None:
    tracker = tracker_for(("hes blackmailing me", "disclose_sextortion", 0.95), "resume", ("thanks", "thank", 0.99))
    dispatcher, events = run(ActionCheckSafety(), tracker, domain)
    assert safety_payloads(dispatcher)[0]["action"] == "none"
    assert "pause" not in event_names(events)


def test_asking_for_a_person_opens_an_offered_case(tracker_for, domain) -> None:
    tracker = tracker_for(("can i talk to a real person", "request_human", 0.98))
    dispatcher, events = run(ActionHandToPerson(), tracker, domain)
    [decision] = safety_payloads(dispatcher)
    assert decision["action"] == "handoff" and decision["level"] == "offered"
    assert decision["criteria"] == ["asked_for_person"]
    assert event_names(events) == ["pause"]


def test_asking_for_a_person_after_a_disclosure_keeps_its_level(tracker_for, domain) -> None:
    tracker = tracker_for(
        ("im 12 and sent a pic to someone", "disclose_sent_image", 0.9),
        ("i want to talk to someone", "request_human", 0.9),
    )
    dispatcher, _ = run(ActionHandToPerson(), tracker, domain)
    [decision] = safety_payloads(dispatcher)
    assert decision["level"] == "high" and "under_13" in decision["criteria"]


def test_an_unsure_request_for_a_person_is_confirmed_with_an_offer_first(tracker_for, domain) -> None:
    tracker = tracker_for(("theres a boy ive been talking to online", "request_human", 0.5))
    dispatcher, events = run(ActionHandToPerson(), tracker, domain)
    assert responses(dispatcher) == ["utter_offer_human"]
    assert safety_payloads(dispatcher) == [] and events == []


def test_the_talk_to_a_person_button_hands_over(tracker_for, domain) -> None:
    tracker = tracker_for(("/request_human", "request_human", 1.0))
    dispatcher, events = run(ActionHandToPerson(), tracker, domain)
    assert safety_payloads(dispatcher)[0]["level"] == "offered"
    assert event_names(events) == ["pause"]


def test_the_meaning_the_app_sent_is_what_the_risk_model_reads(tracker_for, domain) -> None:
    text = "words whose meaning only the app worked out"
    sent = load_encoder().encode_one("what the app made of them")
    tracker = tracker_for(text)
    tracker.events[0]["metadata"] = {MEANING_METADATA: as_metadata(sent)}
    run(ActionCheckSafety(), tracker, domain)
    assert np.array_equal(assessor().risk_reader.encoder.encode_one(text), sent)
