"""Each nation's law, and each situation of issue 14, through the teen API of the running service.

The nation is passed when the conversation starts, as the widget's data-nation does,
and must reach the dialogue and change what the law and the police answers say.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.teen import TeenClient
from tests.running_service import RunningService

LAW_QUESTION = "what does the law say about sending nudes"
POLICE_QUESTION = "what would the police do if two 15 year olds swapped pics"


def bot_texts(events: list[dict]) -> str:
    return " ".join(e.get("text", "") for e in events if e["type"] == "bot_message").replace("\u2019", "'")


def statuses(events: list[dict]) -> list[str]:
    return [e["status"] for e in events if e["type"] == "status"]


@pytest.fixture
def start(service: RunningService) -> Iterator:
    opened: list[TeenClient] = []

    def open_conversation(nation: str | None = None) -> TeenClient:
        opened.append(TeenClient.at(service.base_url, nation=nation))
        return opened[-1]

    yield open_conversation
    for conversation in opened:
        conversation.close()


# (nation, words of its law answer, words of its police answer, words no answer there may say)
NATIONS = [
    ("england", "married or live together", "not a promise", "Children's Reporter"),
    ("wales", "married or live together", "not a promise", "Children's Reporter"),
    ("scotland", "established relationship", "Children's Reporter", "take it no further"),
    ("northern_ireland", "Northern Ireland", "outside of court", "take it no further"),
    ("outside_uk", "Child Helpline International", "different in each country", "take it no further"),
]


@pytest.mark.parametrize(("nation", "law", "police", "never"), NATIONS, ids=[n[0] for n in NATIONS])
def test_each_nation_hears_its_own_law(start, nation: str, law: str, police: str, never: str) -> None:
    conversation = start(nation)
    law_answer = bot_texts(conversation.say(LAW_QUESTION))
    police_answer = bot_texts(conversation.say(POLICE_QUESTION))
    assert law in law_answer, law_answer
    assert police in police_answer, police_answer
    assert never not in law_answer + police_answer
    assert law_answer.index("not in trouble") < law_answer.index("against the law")
    assert "would not be charged" not in police_answer and "criminal record" not in police_answer


def test_without_a_nation_outcome_21_is_only_said_of_england_and_wales(start) -> None:
    answer = bot_texts(start().say(POLICE_QUESTION))
    assert "In England and Wales" in answer and "not a promise" in answer


# (what the young person says, words the answer must have)
SITUATIONS = [
    ("there's a fake ai nude of me going round school and it isnt even me", ["fake", "Report Remove"]),
    ("i forwarded a nude that a girl sent me to my group chat and i regret it", ["delete", "Report Remove"]),
    ("will my parents find out about the picture i sent", ["won't tell your parents", "usually"]),
    ("the police want to talk to me about the pics, what will happen", ["not in trouble", "lawyer"]),
    ("im scared people will find out im gay because of messages i sent", ["not your fault", "Switchboard"]),
    ("im a parent and im worried about what my daughter is doing online", ["NSPCC", "0808 800 5000"]),
]


@pytest.mark.parametrize(("message", "needed"), SITUATIONS, ids=[s[0][:30] for s in SITUATIONS])
def test_each_new_situation_has_its_answer(start, message: str, needed: list[str]) -> None:
    answer = bot_texts(start().say(message))
    for words in needed:
        assert words in answer, answer
