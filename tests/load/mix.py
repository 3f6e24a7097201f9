"""The message mix of the load tests, from the project's own conversations (tests/conversations/handoff.jsonl).

Most young people greet, ask and tell without danger; some disclose coercion and are handed
to a person. The development conversations are about 40% handoffs, far more than a real day,
so conversations are drawn with weights by what they expect: about one in five hands off.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CONVERSATIONS = Path(__file__).resolve().parents[1] / "conversations" / "handoff.jsonl"
WEIGHT_BY_EXPECTATION = {"no_escalate": 3, "offer_ok": 2, "escalate": 1}


def conversations() -> list[dict]:
    return [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


class ConversationMix:
    """Draws whole conversations (lists of messages) with the weights above; seeded, so runs compare."""

    def __init__(self, seed: int) -> None:
        rows = conversations()
        self._turns = [row["turns"] for row in rows]
        self._weights = [WEIGHT_BY_EXPECTATION[row["expect"]] for row in rows]
        self._random = random.Random(seed)

    def next_conversation(self) -> list[str]:
        return self._random.choices(self._turns, weights=self._weights)[0]
