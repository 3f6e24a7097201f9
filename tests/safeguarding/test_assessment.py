"""The risk assessment over whole conversations (SAFEGUARDING.md, "When the bot must hand over")."""

import json
from dataclasses import replace

import pytest

from safeguarding.assessment import Assessor, Decision, Evidence, Turn
from safeguarding.policy import CombinationRule, Condition, advice_for, load_policy
from safeguarding.reader import MessageReader
from safeguarding.vocabulary import Action, Level, Source


def decide(reader: MessageReader, assessor: Assessor, *texts: str, intents=(), since: int = 0):
    turns = []
    for index, text in enumerate(texts):
        intent, confidence = intents[index] if index < len(intents) else (None, 0.0)
        turns.append(Turn(reader.read(text), text=text, intent=intent, confidence=confidence))
    return assessor.assess(turns, since=since)


def first_handoff(reader, assessor, *texts):
    for turn in range(1, len(texts) + 1):
        if decide(reader, assessor, *texts[:turn]).hands_off:
            return turn
    return None


def test_coercion_in_the_fourth_message_escalates_at_the_fourth(reader, assessor) -> None:
    texts = [
        "hiya",
        "can i ask something",
        "theres this boy ive been talking to",
        "he says hell send my pics to everyone if i dont send more",
    ]
    assert first_handoff(reader, assessor, *texts) == 4
    decision = decide(reader, assessor, *texts)
    assert decision.level == Level.HIGH and "coercion" in decision.criteria
    assert any("send more" in item.quote for item in decision.evidence)


def test_the_classic_failure_never_happens(reader, assessor) -> None:
    decision = decide(reader, assessor, "I'm being forced to have sex and I'm only 12")
    assert decision.action == Action.HANDOFF
    assert decision.level == Level.CRITICAL
    assert decision.age_band == "under_13"


def test_an_age_in_one_message_and_images_in_another_make_an_under_13_case(reader, assessor) -> None:
    texts = ["im 11", "whats up", "a boy in my class sent me a nude pic"]
    assert first_handoff(reader, assessor, *texts) == 3
    assert "under_13" in decide(reader, assessor, *texts).criteria


@pytest.mark.parametrize(
    "texts",
    [
        ["im 12 and i sent one to my boyfriend"],
        ["im 11", "a boy keeps asking me to send him one"],
        ["im 12 and someone i met on roblox wants me to take my top off on camera"],
        ["year 7 here", "this lad wants me to send him stuff of me"],
    ],
)
def test_an_under_13_describing_images_in_other_words_is_an_under_13_case(reader, assessor, texts) -> None:
    assert "under_13" in decide(reader, assessor, *texts).criteria


def test_a_question_involves_no_image_only_when_the_classifier_is_sure_it_is_one(reader, assessor) -> None:
    question = "im 12, whats the law on sending pics"
    assert "under_13" not in decide(reader, assessor, question, intents=[("ask_law", 0.98)]).criteria
    story = "im 12 and i did a video call and he recorded me"
    assert "under_13" in decide(reader, assessor, story, intents=[("ask_police", 0.51)]).criteria


def test_a_question_that_tells_of_pictures_swapped_involves_them(reader, assessor) -> None:
    told = "im 12 and me and my boyfriend sent each other pics, am i gonna get in trouble"
    assert "under_13" in decide(reader, assessor, told, intents=[("ask_police", 0.99)]).criteria
    asked = "im 12, can i get in trouble for sending pics"
    assert "under_13" not in decide(reader, assessor, asked, intents=[("ask_police", 0.99)]).criteria


@pytest.mark.parametrize(
    "texts",
    [["im 12", "i sent one message to my teacher about homework"], ["im 11", "i sent some money for a game"]],
)
def test_sending_something_that_is_not_a_picture_is_no_under_13_case(reader, assessor, texts) -> None:
    assert "under_13" not in decide(reader, assessor, *texts).criteria


def test_a_sibling_under_13_with_images_is_someone_else_under_13(reader, assessor) -> None:
    decision = decide(reader, assessor, "my brother is 10", "someone on fortnite keeps asking him for pics")
    assert decision.hands_off
    assert {"under_13", "someone_else"} <= set(decision.criteria)


def test_an_adult_partner_is_an_adult_involved(reader, assessor) -> None:
    decision = decide(reader, assessor, "me and my boyfriend have been together 2 months", "im 15 and hes 23")
    assert decision.hands_off and "adult_involved" in decision.criteria


def test_gifts_and_flattery_from_someone_online_are_grooming(reader, assessor) -> None:
    decision = decide(
        reader,
        assessor,
        "theres a lad i met on discord",
        "he keeps buying me skins and says im so mature",
    )
    assert decision.hands_off and "grooming" in decision.criteria


def test_self_harm_is_critical(reader, assessor) -> None:
    decision = decide(reader, assessor, "my pic got leaked", "i just want to disappear tbh")
    assert decision.level == Level.CRITICAL and "immediate_risk" in decision.criteria


def test_negations_do_not_escalate(reader, assessor) -> None:
    decision = decide(
        reader,
        assessor,
        "nobody is pressuring me or threatening me, me and my gf are both 16 and i just want to know the law",
    )
    assert decision.action == Action.NONE


def test_a_hypothetical_is_answered_with_an_offer(reader, assessor) -> None:
    decision = decide(reader, assessor, "what would you do if someone threatened to leak your pics?")
    assert decision.action == Action.OFFER and "hypothetical" in decision.offer_reasons


def test_an_adult_asking_about_their_own_images_is_not_a_child_case(reader, assessor) -> None:
    assert (
        decide(reader, assessor, "im 22 and my ex who is 25 has pics of me, how do i get them removed").action
        == Action.NONE
    )


def test_an_adult_user_in_danger_still_reaches_a_person(reader, assessor) -> None:
    decision = decide(reader, assessor, "im 19 and he says hell post my pics unless i pay him")
    assert decision.hands_off and decision.age_band == "18_plus"


def test_a_confident_disclosure_intent_escalates_without_cues(reader, assessor) -> None:
    decision = decide(reader, assessor, "he knows i cant say no to him", intents=[("disclose_pressure", 0.95)])
    assert decision.hands_off and decision.criteria == ("coercion",)
    assert decision.evidence[0].quote == "he knows i cant say no to him"


def test_an_unsure_or_negated_intent_does_not(reader, assessor) -> None:
    assert not decide(reader, assessor, "he knows i cant say no", intents=[("disclose_pressure", 0.4)]).hands_off
    assert not decide(
        reader, assessor, "no one is forcing me i promise", intents=[("disclose_pressure", 0.95)]
    ).hands_off


def test_after_a_closed_case_only_something_new_hands_over_again(reader, assessor) -> None:
    texts = ["hes blackmailing me for money", "thanks for the help earlier", "ok"]
    assert not decide(reader, assessor, *texts, since=1).hands_off
    texts.append("now hes saying hell come to my house, hes outside my house")
    decision = decide(reader, assessor, *texts, since=1)
    assert decision.hands_off and decision.level == Level.CRITICAL


def test_advice_comes_from_the_first_matching_group_and_999_comes_first() -> None:
    groups = load_policy().handoff_advice
    assert advice_for(groups, ["money_demand", "threat"]) == [
        "utter_advice_sextortion",
        "utter_advice_sextortion_report",
    ]
    assert advice_for(groups, ["suicide", "money_demand"])[0] == "utter_advice_immediate_risk"
    assert "utter_advice_sextortion" in advice_for(groups, ["suicide", "money_demand"])


def test_pressure_found_by_the_model_alone_gets_advice_that_fits_threats_too() -> None:
    groups = load_policy().handoff_advice
    assert advice_for(groups, ["coercion"]) == ["utter_advice_coercion"]
    assert advice_for(groups, ["repeated_asking", "refused", "coercion"]) == ["utter_advice_pressure"]


def test_a_disclosure_intent_is_cancelled_by_negating_its_own_criterion(reader, assessor) -> None:
    text = "hes not an adult, hes 17 like me. he asked once and was fine when i said no"
    assert not decide(reader, assessor, text, intents=[("disclose_adult_involved", 0.9)]).hands_off
    # ...but not by negating something else.
    text = "hes not threatening me but hes 26 and wants me to send him pics"
    assert decide(reader, assessor, text, intents=[("disclose_adult_involved", 0.9)]).hands_off


def test_a_figure_of_speech_is_not_a_self_harm_disclosure(reader, assessor) -> None:
    for text in [
        "ugh revision is literally killing me",
        "my mum is gonna kill me lol",
        "i'm dead 💀 that was so funny",
    ]:
        assert not decide(reader, assessor, text, intents=[("disclose_self_harm", 0.9)]).hands_off, text
    # ...but a real one still is, with or without the classifier.
    assert (
        decide(reader, assessor, "i cant do this anymore", intents=[("disclose_self_harm", 0.9)]).level
        == Level.CRITICAL
    )
    assert decide(reader, assessor, "this is killing me, i want to kill myself").level == Level.CRITICAL


def test_a_threat_of_violence_is_no_figure_of_speech(reader, assessor) -> None:
    decision = decide(reader, assessor, "hes going to kill me", intents=[("disclose_self_harm", 0.9)])
    assert decision.hands_off


def test_a_joke_with_no_picture_is_not_a_threat(reader, assessor) -> None:
    assert not decide(reader, assessor, "my brother keeps threatening to expose me for liking kpop lol").hands_off
    # ...but a laugh does not cancel a threat about pictures.
    assert decide(reader, assessor, "hes threatening to post my nudes lol").hands_off


def test_asked_again_and_again_after_a_no_is_pressure(reader, assessor, lexicon_assessor) -> None:
    texts = ["this lad asked me for a pic and i told him no", "he just keeps asking every day now"]
    assert decide(reader, assessor, *texts).criteria == ("coercion",)
    # The lexicon's rule; the risk model's view of a single refusal is measured by
    # the evaluation's false-escalation rate (make eval), not asserted here.
    assert not decide(reader, lexicon_assessor, "he asked me for a pic once and i told him no").hands_off


def test_someone_holding_pictures_where_money_comes_in_is_sextortion(reader, assessor) -> None:
    texts = ["my cousin is really stressed", "someone has pics of him and he doesnt have the money"]
    decision = decide(reader, assessor, *texts)
    assert decision.hands_off and "coercion" in decision.criteria


def test_a_deadline_over_pictures_held_is_sextortion(reader, lexicon_assessor) -> None:
    texts = ["this account has my pics", "now it says i have 30 mins"]
    decision = decide(reader, lexicon_assessor, *texts)
    assert decision.hands_off and "coercion" in decision.criteria
    assert not decide(reader, lexicon_assessor, "i have 30 mins till the bus", "then revision").hands_off


def test_making_them_famous_is_a_threat_over_pictures_held_not_over_a_dance_video(
    reader, assessor, lexicon_assessor
) -> None:
    assert decide(reader, lexicon_assessor, "he still has my pics", "says hes gonna make me famous").hands_off
    # Pictures alone need the risk model to lean to coercion.
    assert not decide(reader, assessor, "my mate filmed me dancing", "she says ill go viral lol").hands_off


def test_things_got_ready_after_distress_is_immediate_risk(reader, lexicon_assessor) -> None:
    texts = ["i cant do this anymore", "i mean it this time"]
    decision = decide(reader, lexicon_assessor, *texts)
    assert decision.hands_off and decision.criteria == ("immediate_risk",)
    assert not decide(reader, lexicon_assessor, "ive got everything ready for the trip").hands_off


def test_not_knowing_someone_does_not_negate_what_they_have(reader, assessor) -> None:
    decision = decide(reader, assessor, "im 14 and a man i dont know has pictures of me")
    assert decision.hands_off and "adult_involved" in decision.criteria


def test_a_decision_survives_its_journey_through_rasa_as_json() -> None:
    """The action server sends decisions as JSON and the app reads them back, the young person's own
    request for a person ("offered") included."""
    for decision in (
        Decision(Action.HANDOFF, Level.CRITICAL, ("immediate_risk",), (Evidence("x", "y", 0, Source.RISK_MODEL),)),
        Decision(Action.HANDOFF, Level.OFFERED, ("asked_for_person",)),
        Decision(),
    ):
        assert Decision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision


# --- the rule interpreter, over rule tables of its own --------------------------


def _condition(*names: str, at_least: int = 1, quoted: bool = True) -> Condition:
    return Condition(names=names, at_least=at_least, quoted=quoted, model_support_if_weak=False)


def _assessor_with_rules(reader: MessageReader, *rules: CombinationRule) -> Assessor:
    return Assessor(reader.lexicon, policy=replace(load_policy(), combination_rules=rules))


def test_a_combination_rule_needs_every_condition_and_quotes_what_it_says(reader) -> None:
    gifts_and_pictures = CombinationRule(
        criterion="grooming",
        conditions=(_condition("gifts"), _condition("images", quoted=False)),
        unless_met_directly=False,
    )
    assessor = _assessor_with_rules(reader, gifts_and_pictures)

    assert not decide(reader, assessor, "he bought me airpods").hands_off
    decision = decide(reader, assessor, "he bought me airpods", "i sent him a pic")
    assert decision.criteria == ("grooming",)
    assert [item.turn for item in decision.evidence] == [0]


def test_a_condition_can_ask_for_several_different_names(reader) -> None:
    two_signs = CombinationRule(
        criterion="grooming", conditions=(_condition("gifts", "flattery", at_least=2),), unless_met_directly=False
    )
    assessor = _assessor_with_rules(reader, two_signs)

    assert not decide(reader, assessor, "he bought me airpods").hands_off
    assert decide(reader, assessor, "he gave me robux and said im pretty").criteria == ("grooming",)


def test_without_a_rule_weak_signals_meet_nothing(reader) -> None:
    assert not decide(reader, _assessor_with_rules(reader), "im 12", "i sent him a pic").hands_off
