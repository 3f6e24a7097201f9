"""The young person's turns so far, as the risk assessment reads them, from a Rasa tracker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache

from rasa_sdk import Tracker

from safeguarding.assessment import Assessor, Decision, Turn
from safeguarding.encoder import from_metadata, load_encoder
from safeguarding.entities import from_entities
from safeguarding.lexicon import Lexicon, load_lexicon
from safeguarding.risk_model import load_risk_reader


@dataclass(frozen=True)
class ConversationSoFar:
    turns: list[Turn]
    # Turns that a handoff, now ended, already dealt with.
    covered_by_handoff: int


@lru_cache(maxsize=1)
def assessor() -> Assessor:
    """The lexicon and the risk model, loaded once per action server."""
    return Assessor(load_lexicon(), risk_reader=load_risk_reader())


def read_conversation(tracker: Tracker, lexicon: Lexicon | None = None) -> ConversationSoFar:
    lexicon = lexicon or load_lexicon()
    turns: list[Turn] = []
    covered = 0
    for event in tracker.events:
        kind = event.get("event")
        if kind == "resume":
            covered = len(turns)
        elif kind == "user":
            parse = event.get("parse_data") or {}
            text = event.get("text") or ""
            intent = parse.get("intent") or {}
            entities = parse.get("entities") or []
            turns.append(
                Turn(
                    reading=from_entities(text, entities, lexicon),
                    text=text,
                    intent=intent.get("name"),
                    confidence=float(intent.get("confidence") or 0.0),
                    stated_age_band=next(
                        (str(e.get("value")) for e in entities if e.get("entity") == "age_band"), None
                    ),
                )
            )
    return ConversationSoFar(turns, covered)


def remember_meanings(tracker: Tracker) -> None:
    """The meanings the app sent with its messages (safeguarding.encoder.as_metadata): the risk model then
    encodes none of those messages again."""
    encoder = load_encoder()
    for event in tracker.events:
        vector = from_metadata(event.get("metadata")) if event.get("event") == "user" else None
        if vector is not None:
            encoder.remember(event.get("text") or "", vector)


async def assess_conversation(tracker: Tracker) -> tuple[ConversationSoFar, Decision]:
    """The conversation so far and the decision on it, worked out in a thread: reading every turn and
    running the risk model is CPU work, and the action server's event loop must meanwhile go on
    taking other conversations' requests (and answering its health check)."""

    def work() -> tuple[ConversationSoFar, Decision]:
        conversation = read_conversation(tracker)
        remember_meanings(tracker)
        return conversation, assessor().assess(conversation.turns, since=conversation.covered_by_handoff)

    return await asyncio.to_thread(work)
