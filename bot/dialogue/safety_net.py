"""The app's own reading of danger, on every message beside the dialogue engine's.

The same cue lexicon, risk model and assessment that run in the action server
run here on the young person's words alone (no intents), on every message while
Rasa reads it too: clear danger reaches a person at once, and still does when
Rasa or the action server is down, slow, or the conversation is already with
the helpline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache

from safeguarding.assessment import Assessor, Decision, Turn
from safeguarding.encoder import EncoderError, as_metadata
from safeguarding.reader import MessageReader
from safeguarding.reading import Reading
from safeguarding.risk_model import RiskModelError, load_risk_reader

logger = logging.getLogger(__name__)

# The messages of a few hundred conversations at a time: a reading is a few small tuples.
READINGS_REMEMBERED = 8192


class SafetyNet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: Callable[[str], Reading] | None = None
        self._assessor: Assessor | None = None

    def _load(self) -> tuple[Callable[[str], Reading], Assessor]:
        with self._lock:
            if self._read is None or self._assessor is None:
                reader = MessageReader()
                # Every turn reads the whole conversation again: each message is read once.
                self._read = lru_cache(maxsize=READINGS_REMEMBERED)(reader.read)
                try:
                    risk_reader = load_risk_reader()
                except (RiskModelError, EncoderError):
                    # The lexicon alone still finds clear danger; readiness reports the missing model.
                    logger.exception("the risk model could not be loaded; the safety net uses the lexicon alone")
                    risk_reader = None
                self._assessor = Assessor(reader.lexicon, risk_reader=risk_reader)
            return self._read, self._assessor

    def warm_up(self) -> None:
        self._load()

    @property
    def has_risk_model(self) -> bool:
        return self._assessor is not None and self._assessor.risk_reader is not None

    def meaning(self, text: str) -> dict[str, str] | None:
        """The meaning of a message, for Rasa's metadata (safeguarding.encoder.as_metadata); the safety net
        then finds it already encoded. None without the risk model, whose encoder it is."""
        _, assessor = self._load()
        if assessor.risk_reader is None:
            return None
        return as_metadata(assessor.risk_reader.encoder.encode_one(text))

    def assess(self, texts: list[str], *, since: int = 0) -> Decision:
        read, assessor = self._load()
        with self._lock:
            turns = [Turn(read(text), text=text) for text in texts]
            return assessor.assess(turns, since=since)
