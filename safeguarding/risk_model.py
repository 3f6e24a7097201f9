"""A learned risk model beside the lexicon: how likely each turn meets each handoff criterion.

It reads meaning, not only words: the sentence encoder's vector of the message
and of the turns just before it (so "he's 24 btw" completes an earlier story),
with the lexicon's cues and facts (so "no one is forcing me" stays a negation).
Five small neural networks, trained by scripts/train_risk_model.py on
data/safeguarding/risk/ and the NLU examples from different starting weights,
give one probability per criterion, their mean (one network alone moves with
its starting weights more than a threshold can absorb); each criterion has its
own threshold, set recall-first on held-out folds (the "critical" criterion
lower still). The weights are plain arrays
(build/risk_model.npz), so the same model runs in Rasa's action server and in
the app's safety net, whatever their library versions.

Only the turns just before a message are read with it: weak signals in
unrelated turns of a long conversation do not add up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from safeguarding.encoder import DIMENSIONS, SentenceEncoder, load_encoder
from safeguarding.features import cue_feature_names, cue_vector
from safeguarding.lexicon import DEFAULT_LEXICON_PATH, Lexicon, load_lexicon
from safeguarding.reading import Reading

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "build" / "risk_model.npz"
# Under 13 is left to the lexicon's ages and school years: a number is a fact to read, not a meaning.
CRITERIA = ("adult_involved", "coercion", "grooming", "immediate_risk")
# How many turns before a message are read with it.
CONTEXT_TURNS = 2


class RiskModelError(RuntimeError):
    """The trained weights are missing or were trained for another lexicon."""


def turn_features(
    encoder: SentenceEncoder, texts: Sequence[str], readings: Sequence[Reading], columns: dict[str, int]
) -> np.ndarray:
    """One row per turn: its meaning, the meaning of the turns just before it, and the cues of both."""
    vectors = encoder.encode(list(texts))
    cues = np.stack([cue_vector(reading, columns) for reading in readings]) if readings else np.zeros((0, len(columns)))
    rows = []
    for index in range(len(texts)):
        before = slice(max(0, index - CONTEXT_TURNS), index)
        context = vectors[before].mean(axis=0) if index else np.zeros(DIMENSIONS, dtype=np.float32)
        context_cues = cues[before].max(axis=0) if index else np.zeros(len(columns), dtype=np.float32)
        rows.append(np.concatenate([vectors[index], context, cues[index], context_cues]))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 2 * DIMENSIONS + 2 * len(columns)))


@dataclass(frozen=True)
class RiskModel:
    # One network per member along the first axis: (members, features, hidden) and so on.
    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    output_bias: np.ndarray
    criteria: tuple[str, ...]
    thresholds: dict[str, float]
    # The cue columns the model was trained with (cue_feature_names of its lexicon).
    feature_names: tuple[str, ...]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        hidden = np.maximum(features @ self.hidden_weights + self.hidden_bias[:, None, :], 0.0)
        members = 1.0 / (1.0 + np.exp(-(hidden @ self.output_weights + self.output_bias[:, None, :])))
        return members.mean(axis=0)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            hidden_weights=self.hidden_weights,
            hidden_bias=self.hidden_bias,
            output_weights=self.output_weights,
            output_bias=self.output_bias,
            meta=np.array(
                json.dumps(
                    {"criteria": self.criteria, "thresholds": self.thresholds, "feature_names": self.feature_names}
                )
            ),
        )

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        if not path.exists():
            raise RiskModelError(f"no risk model at {path}: build it with `make risk-model`")
        with np.load(path) as stored:
            meta = json.loads(str(stored["meta"]))
            return cls(
                hidden_weights=stored["hidden_weights"],
                hidden_bias=stored["hidden_bias"],
                output_weights=stored["output_weights"],
                output_bias=stored["output_bias"],
                criteria=tuple(meta["criteria"]),
                thresholds={name: float(value) for name, value in meta["thresholds"].items()},
                feature_names=tuple(meta["feature_names"]),
            )


@dataclass(frozen=True)
class Flag:
    """The model's finding for one turn: a criterion and how sure it is."""

    turn: int
    criterion: str
    probability: float


class RiskReader:
    """Scores a conversation's turns with the risk model; checks the model fits the lexicon."""

    def __init__(self, model: RiskModel, lexicon: Lexicon, encoder: SentenceEncoder | None = None) -> None:
        names = cue_feature_names(lexicon)
        # The cue columns must mean what they meant in training.
        if model.feature_names != names:
            raise RiskModelError("the risk model was trained with another lexicon: rebuild it (`make risk-model`)")
        self.model = model
        self._columns = {name: column for column, name in enumerate(names)}
        self.encoder = encoder or load_encoder()

    def probabilities(self, texts: Sequence[str], readings: Sequence[Reading]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.model.criteria)))
        return self.model.probabilities(turn_features(self.encoder, texts, readings, self._columns))

    def flags(self, texts: Sequence[str], readings: Sequence[Reading]) -> list[Flag]:
        found = []
        for turn, row in enumerate(self.probabilities(texts, readings)):
            for criterion, probability in zip(self.model.criteria, row, strict=True):
                if probability >= self.model.thresholds[criterion]:
                    found.append(Flag(turn, criterion, float(probability)))
        return found


@cache
def load_risk_reader(path: Path = DEFAULT_MODEL_PATH, lexicon_path: Path = DEFAULT_LEXICON_PATH) -> RiskReader:
    """One per process: the encoder's weights take about 90 MB."""
    return RiskReader(RiskModel.load(path), load_lexicon(lexicon_path))
