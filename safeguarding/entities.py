"""A Reading as Rasa entities and back, so it travels from the NLU component
through the tracker to the actions without loss.

Cues become ``risk_cue`` entities whose role is their polarity (asserted,
negated, hypothetical); facts become entities named by their kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from safeguarding.bands import age_band_for
from safeguarding.lexicon import Lexicon
from safeguarding.reading import FACT_KINDS, OWN_AGE, Cue, Fact, Reading

RISK_CUE = "risk_cue"
AGE_BAND = "age_band"


def to_entities(reading: Reading) -> list[dict[str, Any]]:
    cues = [
        {"entity": RISK_CUE, "value": cue.name, "role": cue.polarity, "start": cue.start, "end": cue.end}
        for cue in reading.cues
    ]
    facts = [{"entity": fact.kind, "value": fact.value, "start": fact.start, "end": fact.end} for fact in reading.facts]
    return cues + facts + _age_band(reading)


def _age_band(reading: Reading) -> list[dict[str, Any]]:
    """The band of an age the young person states, for the dialogue's age_band slot."""
    stated = [fact for fact in reading.facts if fact.kind == OWN_AGE]
    if not stated:
        return []
    last = stated[-1]
    return [{"entity": AGE_BAND, "value": age_band_for(int(last.value)), "start": last.start, "end": last.end}]


def from_entities(text: str, entities: Iterable[dict[str, Any]], lexicon: Lexicon) -> Reading:
    cues, facts = [], []
    for entity in entities:
        kind, value = entity.get("entity"), str(entity.get("value"))
        start, end = int(entity.get("start", 0)), int(entity.get("end", 0))
        if kind == RISK_CUE and value in lexicon.cues:
            definition = lexicon.cues[value]
            cues.append(
                Cue(
                    name=value,
                    criterion=definition.criterion,
                    critical=definition.critical,
                    quote=text[start:end],
                    start=start,
                    end=end,
                    polarity=entity.get("role") or "asserted",
                )
            )
        elif kind in FACT_KINDS:
            facts.append(Fact(kind, value, start, end))
    return Reading(cues=tuple(cues), facts=tuple(facts))
