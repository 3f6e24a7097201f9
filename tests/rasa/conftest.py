"""Tracker fixtures for action tests, in the style of Rasa's own examples."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker

from safeguarding.entities import to_entities
from safeguarding.reader import MessageReader


@pytest.fixture(scope="session")
def reader() -> MessageReader:
    return MessageReader()


@pytest.fixture
def domain() -> dict[str, Any]:
    return {}


@pytest.fixture
def tracker_for(reader: MessageReader):
    """A tracker holding the given user turns, each read by the real cue reader.

    A turn is a text, or (text, intent, confidence); the string "resume" stands
    for a conversation resumed after a helpline worker's case ended.
    """

    def build(*turns, slots: dict[str, Any] | None = None) -> Tracker:
        events: list[dict[str, Any]] = []
        latest: dict[str, Any] = {}
        for turn in turns:
            if turn == "resume":
                events.append({"event": "resume"})
                continue
            text, intent, confidence = (turn, "out_of_scope", 0.5) if isinstance(turn, str) else turn
            latest = {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "entities": to_entities(reader.read(text)),
            }
            events.append({"event": "user", "text": text, "parse_data": latest})
            events.append({"event": "action", "name": "action_check_safety"})
        return Tracker(
            sender_id="test-conversation",
            slots={"age_band": "unknown", "nation": None, "human_offered_at_turn": None, **(slots or {})},
            latest_message=latest,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return build
