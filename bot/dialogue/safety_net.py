"""The app's own reading of danger, used whenever the dialogue engine gives no decision.

If Rasa or the action server is down, slow, or the conversation is already with
the helpline, the same cue lexicon, risk model and assessment that run in the
action server run here on the young person's words alone (no intents), so clear
danger still reaches a person.
"""

from __future__ import annotations

import logging
import threading

from safeguarding.assessment import Assessor, Decision, Turn
from safeguarding.encoder import EncoderError
from safeguarding.reader import MessageReader
from safeguarding.risk_model import RiskModelError, load_risk_reader

logger = logging.getLogger(__name__)


class SafetyNet:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reader: MessageReader | None = None
        self._assessor: Assessor | None = None

    def _load(self) -> tuple[MessageReader, Assessor]:
        with self._lock:
            if self._reader is None or self._assessor is None:
                self._reader = MessageReader()
                try:
                    risk_reader = load_risk_reader()
                except (RiskModelError, EncoderError):
                    # The lexicon alone still finds clear danger; readiness reports the missing model.
                    logger.exception("the risk model could not be loaded; the safety net uses the lexicon alone")
                    risk_reader = None
                self._assessor = Assessor(self._reader.lexicon, risk_reader=risk_reader)
            return self._reader, self._assessor

    def warm_up(self) -> None:
        self._load()

    @property
    def has_risk_model(self) -> bool:
        return self._assessor is not None and self._assessor.risk_reader is not None

    def assess(self, texts: list[str], *, since: int = 0) -> Decision:
        reader, assessor = self._load()
        with self._lock:
            turns = [Turn(reader.read(text), text=text) for text in texts]
            return assessor.assess(turns, since=since)
