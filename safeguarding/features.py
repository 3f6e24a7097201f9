"""A Reading as numbers: one column per cue and polarity ("threat:negated") and per fact kind.

The one definition of how the lexicon's findings are shown to learned models:
DIET gets them from the NLU component, the risk model from its own features.
"""

from __future__ import annotations

import numpy as np

from safeguarding.lexicon import Lexicon
from safeguarding.reading import ASSERTED, FACT_KINDS, HYPOTHETICAL, NEGATED, Reading

POLARITIES = (ASSERTED, NEGATED, HYPOTHETICAL)


def cue_feature_names(lexicon: Lexicon) -> tuple[str, ...]:
    return tuple([f"{cue}:{polarity}" for cue in sorted(lexicon.cues) for polarity in POLARITIES] + list(FACT_KINDS))


def found_spans(reading: Reading) -> list[tuple[str, int, int]]:
    """Each cue and fact of a reading with the feature name it sets and its character span."""
    spans = [(f"{cue.name}:{cue.polarity}", cue.start, cue.end) for cue in reading.cues]
    return spans + [(fact.kind, fact.start, fact.end) for fact in reading.facts]


def cue_vector(reading: Reading, columns: dict[str, int]) -> np.ndarray:
    """1.0 in the column of every cue and fact the message has."""
    vector = np.zeros(len(columns), dtype=np.float32)
    for name, _, _ in found_spans(reading):
        vector[columns[name]] = 1.0
    return vector
