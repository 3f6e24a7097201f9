"""What a message was read to say: its risk cues (asserted, negated or hypothetical) and the facts it
states. Plain data, without spaCy: the action server rebuilds readings from Rasa's entities
(safeguarding/entities.py) and needs none of the reader's machinery (safeguarding/reader.py)."""

from __future__ import annotations

from dataclasses import dataclass

ASSERTED = "asserted"
NEGATED = "negated"
HYPOTHETICAL = "hypothetical"


@dataclass(frozen=True)
class Cue:
    name: str
    criterion: str | None
    critical: bool
    quote: str
    start: int
    end: int
    polarity: str = ASSERTED

    @property
    def asserted(self) -> bool:
        return self.polarity == ASSERTED


@dataclass(frozen=True)
class Fact:
    """Something a message states: an age, a school year, a nation, a platform, or
    that it is about someone else or framed as a hypothetical."""

    kind: str
    value: str
    start: int
    end: int


OWN_AGE, OTHER_AGE, THIRD_PARTY_AGE = "own_age", "other_age", "third_party_age"
OWN_SCHOOL_YEAR, OTHER_SCHOOL_YEAR = "own_school_year", "other_school_year"
NATION, PLATFORM, THIRD_PARTY, HYPOTHETICAL_FRAME = "nation", "platform", "third_party", "hypothetical_frame"
FACT_KINDS = (
    OWN_AGE,
    OTHER_AGE,
    THIRD_PARTY_AGE,
    OWN_SCHOOL_YEAR,
    OTHER_SCHOOL_YEAR,
    NATION,
    PLATFORM,
    THIRD_PARTY,
    HYPOTHETICAL_FRAME,
)


@dataclass(frozen=True)
class Reading:
    cues: tuple[Cue, ...] = ()
    facts: tuple[Fact, ...] = ()

    def _values(self, kind: str) -> list[str]:
        return [fact.value for fact in self.facts if fact.kind == kind]

    def _latest(self, kind: str) -> str | None:
        """The last value of this kind the message states."""
        values = self._values(kind)
        return values[-1] if values else None

    @property
    def own_age(self) -> int | None:
        age = self._latest(OWN_AGE)
        return int(age) if age is not None else None

    @property
    def other_ages(self) -> tuple[int, ...]:
        return tuple(int(value) for value in self._values(OTHER_AGE))

    @property
    def third_party_ages(self) -> tuple[int, ...]:
        """Ages of a friend or sibling the young person is telling us about."""
        return tuple(int(value) for value in self._values(THIRD_PARTY_AGE))

    @property
    def own_school_year(self) -> str | None:
        return self._latest(OWN_SCHOOL_YEAR)

    @property
    def other_school_years(self) -> tuple[str, ...]:
        return tuple(self._values(OTHER_SCHOOL_YEAR))

    @property
    def nation(self) -> str | None:
        return self._latest(NATION)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._values(PLATFORM))

    @property
    def third_party(self) -> bool:
        return bool(self._values(THIRD_PARTY))

    @property
    def hypothetical(self) -> bool:
        return bool(self._values(HYPOTHETICAL_FRAME))

    def asserted(self, name: str) -> bool:
        return any(cue.name == name and cue.asserted for cue in self.cues)
