"""The learned risk model beside the lexicon: situations told in other words, and what must not add up.

The messages here are written for these tests, by situation (never taken from
an evaluation set); each names none of the lexicon's words for its danger.
"""

from dataclasses import replace

import pytest

from safeguarding.assessment import Turn
from safeguarding.risk_model import RiskModelError, RiskReader
from safeguarding.vocabulary import Action, Level, Source
from tests.safeguarding.test_assessment import decide, first_handoff


def test_the_built_model_fits_the_lexicon_and_a_mismatched_one_is_refused(reader, risk_reader) -> None:
    assert set(risk_reader.model.thresholds) == set(risk_reader.model.criteria)
    stale = replace(risk_reader.model, feature_names=risk_reader.model.feature_names[:-1])
    with pytest.raises(RiskModelError, match="another lexicon"):
        RiskReader(stale, reader.lexicon)


@pytest.mark.parametrize(
    ("texts", "criterion"),
    [
        (
            ["i've lined up every tablet from the cupboard on my desk and i'm writing notes to my family"],
            "immediate_risk",
        ),
        (["he sent me a screenshot of all my followers with my photo next to it and a timer"], "coercion"),
        (["my mum's boyfriend keeps coming in when i'm in the shower with his phone out"], "adult_involved"),
    ],
)
def test_situations_told_without_the_lexicon_s_words_reach_a_person(reader, assessor, texts, criterion) -> None:
    decision = decide(reader, assessor, *texts)
    assert decision.action == Action.HANDOFF
    assert criterion in decision.criteria
    assert any(item.source == Source.RISK_MODEL for item in decision.evidence), "the case shows the model found it"


def test_concrete_danger_is_critical(reader, assessor) -> None:
    decision = decide(
        reader, assessor, "i've lined up every tablet from the cupboard on my desk and i'm writing notes to my family"
    )
    assert decision.level == Level.CRITICAL


def test_a_later_turn_completes_an_earlier_story(reader, assessor) -> None:
    texts = ["i've been sending pics to this guy i met on discord", "how do i delete them off his phone", "hes 27"]
    assert first_handoff(reader, assessor, *texts) == 3


@pytest.mark.parametrize(
    "texts",
    [
        ["no one is asking me for anything or threatening me, i just want to know the law on nudes at 16"],
        ["a girl in my year airdropped a nude to half the class, what should i do"],
        ["my mum will actually kill me when she sees my report card"],
    ],
)
def test_ordinary_situations_are_not_handed_over(reader, assessor, texts) -> None:
    assert decide(reader, assessor, *texts).action != Action.HANDOFF


EVERYDAY = [
    "hi",
    "is this a real person",
    "ok cool",
    "what's your favourite football team",
    "i've got a maths test tomorrow",
    "my brother is 19 and he's at uni",
    "we went to spain in the summer",
    "i took loads of photos of the beach",
    "my dog is called biscuit",
    "do you like pizza",
    "my mum bought me a new phone",
    "i play fortnite with my mates",
    "my teacher gave us loads of homework",
    "i'm in year 9",
    "what's the capital of france",
    "i love taylor swift",
    "my cousin is getting married",
    "my dad works nights",
    "i got a new game for my birthday",
    "my friend's older sister drives us to school",
    "i'm saving up for trainers",
    "we have a new puppy",
    "i hate PE",
    "can you help me with english",
    "i watched a film last night",
    "it's raining again",
    "my nan sends me money for my birthday",
    "i've got a snapchat streak with my best friend",
    "my sister is 21",
    "we're going to the cinema",
    "i want to be a vet",
    "i got a detention lol",
    "the wifi is so slow",
    "my mate lost his phone",
    "i made pancakes",
    "my uncle lives in wales",
    "we had a fire drill",
    "i need new headphones",
    "i'm tired",
    "what time is it",
    "my friend's dad coaches our team",
    "i posted a photo of my cat",
    "i'm going to bed soon",
    "school trip next week",
    "i can't find my charger",
    "my older brother plays xbox all night",
    "i like drawing",
    "it's my mum's birthday",
    "we moved house last year",
    "i have a sleepover on friday",
    "i'm learning guitar",
    "my bus was late",
    "i got a new hoodie",
    "my grandad is 80",
    "i support liverpool",
    "we had pizza for tea",
    "i'm doing my homework now",
    "my phone screen is cracked",
    "thanks for chatting",
    "bye",
]


def test_sixty_harmless_messages_about_everything_never_hand_over(reader, assessor) -> None:
    assert len(EVERYDAY) == 60
    turns = []
    for text in EVERYDAY:
        turns.append(Turn(reader.read(text), text=text))
        assert assessor.assess(turns).action != Action.HANDOFF, f"handed over at {len(turns)}: {text}"


def test_a_disclosure_at_message_forty_still_hands_over(reader, assessor) -> None:
    texts = [*EVERYDAY[:39], "someone i met online says he'll send my nudes to my whole school unless i pay him"]
    turns = [Turn(reader.read(text), text=text) for text in texts]
    decision = assessor.assess(turns)
    assert decision.action == Action.HANDOFF and "coercion" in decision.criteria
