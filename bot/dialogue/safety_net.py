"""The app's own reading of danger, used whenever the dialogue engine gives no decision.

If Rasa or the action server is down, slow, or the conversation is already with
the helpline, the same cue lexicon and assessment that run inside Rasa run here
on the young person's words alone (no intents), so clear danger still reaches a person.
"""

from __future__ import annotations

import threading

from safeguarding.assessment import Assessor, Decision, Turn
from safeguarding.reader import MessageReader


class SafetyNet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reader: MessageReader | None = None
        self._assessor: Assessor | None = None

    def _load(self) -> tuple[MessageReader, Assessor]:
        with self._lock:
            if self._reader is None or self._assessor is None:
                self._reader = MessageReader()
                self._assessor = Assessor(self._reader.lexicon)
            return self._reader, self._assessor

    def warm_up(self) -> None:
        self._load()

    def assess(self, texts: list[str], *, since: int = 0) -> Decision:
        reader, assessor = self._load()
        with self._lock:
            turns = [Turn(reader.read(text), text=text) for text in texts]
        return assessor.assess(turns, since=since)
