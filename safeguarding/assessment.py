"""The risk assessment: from every turn so far, decide whether a person must take over.

Reads the whole conversation, not only the last message: an age given in the
first message and images mentioned in the third make an under-13 case at the
third; coercion revealed in the fourth message escalates at the fourth.

The outcome is a Decision: no handoff, offer a person, or an automatic handoff
at level critical or high, with the SAFEGUARDING.md criteria that applied and
the cues, quoted from the young person's own words, that showed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from safeguarding.bands import AGE_BANDS, age_band_for
from safeguarding.lexicon import Lexicon, load_lexicon
from safeguarding.policy import CombinationRule, Policy, load_policy
from safeguarding.reading import HYPOTHETICAL, NEGATED, Reading
from safeguarding.risk_model import RiskModel, RiskReader
from safeguarding.vocabulary import Action, ContextFact, Criterion, Level, Source


@dataclass(frozen=True)
class Turn:
    """What one of the young person's messages told us."""

    reading: Reading
    text: str = ""
    intent: str | None = None
    confidence: float = 0.0
    # An age band chosen from the bot's buttons, or "declined".
    stated_age_band: str | None = None


@dataclass(frozen=True)
class Evidence:
    label: str
    quote: str
    turn: int
    source: Source = Source.LEXICON

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "quote": self.quote, "turn": self.turn, "source": self.source}


@dataclass(frozen=True)
class Decision:
    action: Action = Action.NONE
    level: Level | None = None
    criteria: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    offer_reasons: tuple[str, ...] = ()
    age_band: str = "unknown"
    nation: str | None = None

    @property
    def hands_off(self) -> bool:
        return self.action == Action.HANDOFF

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "level": self.level,
            "criteria": list(self.criteria),
            "evidence": [item.to_dict() for item in self.evidence],
            "offer_reasons": list(self.offer_reasons),
            "age_band": self.age_band,
            "nation": self.nation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        return cls(
            action=Action(data.get("action", Action.NONE)),
            level=Level(data["level"]) if data.get("level") else None,
            criteria=tuple(data.get("criteria", ())),
            evidence=tuple(
                Evidence(**{**item, "source": Source(item.get("source", Source.LEXICON))})
                for item in data.get("evidence", ())
            ),
            offer_reasons=tuple(data.get("offer_reasons", ())),
            age_band=data.get("age_band", "unknown"),
            nation=data.get("nation"),
        )


def _excerpt(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


@dataclass(frozen=True)
class _ModelScores:
    """The risk model's probability of each criterion, by turn index."""

    model: RiskModel
    by_turn: dict[int, np.ndarray]

    def flags(self) -> list[tuple[int, str, float]]:
        """The turns that take a criterion over its threshold.

        A turn is read with the ones before it, so after a disclosure even "ok"
        scores high; it counts only if it raised the probability above every
        turn before it, i.e. told something new ("hes 27" after "I've been
        sending pics to a guy").
        """
        found, highest = [], np.zeros(len(self.model.criteria))
        for index, row in sorted(self.by_turn.items()):
            for column, criterion in enumerate(self.model.criteria):
                if row[column] >= self.model.thresholds[criterion] and row[column] > highest[column]:
                    found.append((index, criterion, float(row[column])))
            highest = np.maximum(highest, row)
        return found

    def leans_anew(self, criterion: str, index: int, ratio: float) -> bool:
        """Whether this turn itself leans towards the criterion: at least `ratio` of its threshold,
        and higher than every turn before it ("thanks" after a disclosure scores high, and tells nothing)."""
        if criterion not in self.model.criteria or index not in self.by_turn:
            return False
        column = self.model.criteria.index(criterion)
        earlier = [row[column] for turn, row in self.by_turn.items() if turn < index]
        value = self.by_turn[index][column]
        return self.leans(criterion, [index], ratio) and value > max(earlier, default=0.0)

    def leans(self, criterion: str, turns: Sequence[int], ratio: float) -> bool:
        """Whether the model gives the criterion at least `ratio` of its threshold in any of these turns."""
        if criterion not in self.model.criteria:
            return True
        column = self.model.criteria.index(criterion)
        floor = ratio * self.model.thresholds[criterion]
        return any(self.by_turn[index][column] >= floor for index in turns if index in self.by_turn)


@dataclass
class _Findings:
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)

    def add(self, criterion: str, *items: Evidence) -> None:
        self.evidence.setdefault(criterion, []).extend(items)

    def merge(self, other: _Findings) -> None:
        for criterion, items in other.evidence.items():
            self.add(criterion, *items)


@dataclass(frozen=True)
class _Person:
    """What the conversation tells about the young person: it carries over from any turn."""

    nation: str | None
    own_age: int | None
    age_band: str

    @property
    def adult(self) -> bool:
        return self.age_band == "18_plus"


class Assessor:
    def __init__(
        self, lexicon: Lexicon | None = None, policy: Policy | None = None, risk_reader: RiskReader | None = None
    ) -> None:
        self.lexicon = lexicon or load_lexicon()
        self.policy = policy or load_policy()
        self.risk_reader = risk_reader

    def assess(self, turns: Sequence[Turn], *, since: int = 0) -> Decision:
        """Decide on the conversation so far: read the facts, apply the policy's rules, triage.

        ``since`` is the number of turns a previous handoff already covered: a
        criterion leads to a new handoff only with evidence from a later turn,
        while facts such as ages and who is involved carry over from the start.
        """
        turns = [self._without_jokes(turn) for turn in turns]
        person = self._person(turns)
        context = self._context(turns, person)
        scores = self._model_scores(turns)
        findings = self._direct_criteria(turns)
        findings.merge(self._combined_criteria(context, scores, met_directly=frozenset(findings.evidence)))
        findings.merge(self._model_criteria(turns, context, scores, adult_user=person.adult))
        return self._triage(turns, findings, person, scores, since=since)

    def _without_jokes(self, turn: Turn) -> Turn:
        """A joking message that names no picture: its threats are not counted."""
        jokes = self.policy.jokes
        if not self._asserts_any(turn, jokes.cues) or self._asserts_any(turn, jokes.unless):
            return turn
        cues = tuple(cue for cue in turn.reading.cues if cue.name not in jokes.cancels)
        return replace(turn, reading=replace(turn.reading, cues=cues))

    # --- facts ------------------------------------------------------------------

    def _person(self, turns: Sequence[Turn]) -> _Person:
        nation = next((t.reading.nation for t in reversed(turns) if t.reading.nation), None)
        own_age = self._own_age(turns, nation)
        return _Person(nation, own_age, self._age_band(turns, own_age))

    def _recent(self, turns: Sequence[Turn]) -> list[tuple[int, Turn]]:
        """The turns whose context combines with the latest message (facts about the young person carry over)."""
        start = max(0, len(turns) - self.policy.context_window_turns)
        return list(enumerate(turns))[start:]

    def _context(self, turns: Sequence[Turn], person: _Person) -> dict[str, list[Evidence]]:
        """The cues the latest turns assert and the context facts they show, by name, each with its evidence."""
        recent = self._recent(turns)
        context: dict[str, list[Evidence]] = {}
        for index, turn in recent:
            for cue in turn.reading.cues:
                if cue.asserted or (cue.polarity == NEGATED and cue.name in self.policy.context_ignores_negation):
                    context.setdefault(cue.name, []).append(
                        Evidence(self.lexicon.cues[cue.name].label, cue.quote, index)
                    )
        facts = {
            ContextFact.IMAGES: self._images(recent),
            ContextFact.ADULT_AGE: [
                Evidence("an adult", str(age), index)
                for index, turn in recent
                for age in turn.reading.other_ages
                if age >= 18
            ],
            ContextFact.UNDER_13_AGE: self._under_13_ages(turns, recent, person),
        }
        context.update({fact.value: items for fact, items in facts.items() if items})
        return context

    def _images(self, recent: list[tuple[int, Turn]]) -> list[Evidence]:
        found = []
        for index, turn in recent:
            asks_only = turn.intent in self.policy.question_intents and turn.confidence >= self.policy.intent_confidence
            if asks_only and not self._asserts_any(turn, self.policy.told_image_cues):
                continue
            found += [
                Evidence("images", cue.quote, index)
                for cue in turn.reading.cues
                if cue.name in self.policy.image_cues and cue.asserted
            ]
        return found

    def _under_13_ages(self, turns: Sequence[Turn], recent: list[tuple[int, Turn]], person: _Person) -> list[Evidence]:
        young = []
        if person.own_age is not None and person.own_age < 13:
            young.append(Evidence("under 13", str(person.own_age), self._turn_stating_own_age(turns)))
        for index, turn in recent:
            if turn.stated_age_band == "under_13":
                young.append(Evidence("under 13", "under 13", index))
            ages = (
                list(turn.reading.other_ages)
                + list(turn.reading.third_party_ages)
                + [
                    age
                    for year in turn.reading.other_school_years
                    if (age := self._school_year_age(year, person.nation))
                ]
            )
            young += [Evidence("under 13", str(age), index) for age in ages if age < 13]
        return young

    # --- criteria met by one message ------------------------------------------

    def _direct_criteria(self, turns: Sequence[Turn]) -> _Findings:
        findings = _Findings()
        for index, turn in enumerate(turns):
            for cue in turn.reading.cues:
                if cue.criterion and cue.asserted:
                    findings.add(cue.criterion, Evidence(self.lexicon.cues[cue.name].label, cue.quote, index))
            if evidence := self._intent_evidence(index, turn):
                findings.add(self.policy.intent_criteria[turn.intent], *evidence)
        return findings

    def _intent_evidence(self, index: int, turn: Turn) -> list[Evidence]:
        """Evidence that a confident disclosure intent meets its criterion; none when it does not."""
        criterion = self.policy.intent_criteria.get(turn.intent or "")
        if not criterion or turn.confidence < self.policy.intent_confidence:
            return []
        cues = turn.reading.cues
        related = [
            c
            for c in cues
            if c.criterion == criterion or c.name in self.policy.criterion_context_cues.get(criterion, ())
        ]
        asserted = [c for c in related if c.asserted and c.criterion]
        if asserted:
            return [Evidence(self.lexicon.cues[c.name].label, c.quote, index) for c in asserted]
        if turn.reading.hypothetical or any(not c.asserted for c in related):
            # "What if someone threatened..." or "no one is forcing me": answer, and
            # (for a hypothetical) offer a person, but do not hand over.
            return []
        if not self._has_evidence(turn, self.policy.intent_evidence[turn.intent]) or any(
            cue.name in self.policy.intent_cancelled_by.get(turn.intent, ()) for cue in cues
        ):
            return []
        return [Evidence(self.policy.intent_labels[turn.intent], _excerpt(turn.text), index, Source.INTENT)]

    @staticmethod
    def _asserts_any(turn: Turn, names: frozenset[str]) -> bool:
        return any(cue.asserted and cue.name in names for cue in turn.reading.cues)

    @staticmethod
    def _has_evidence(turn: Turn, evidence: frozenset[str]) -> bool:
        """Whether the message has any of these cues, or an age of 18 or over for someone else."""
        if ContextFact.ADULT_AGE.value in evidence and any(age >= 18 for age in turn.reading.other_ages):
            return True
        return any(cue.name in evidence and cue.polarity != NEGATED for cue in turn.reading.cues)

    # --- criteria met by the latest turns together: policy.yml's combination rules ---

    def _combined_criteria(
        self, context: dict[str, list[Evidence]], scores: _ModelScores | None, *, met_directly: frozenset[str]
    ) -> _Findings:
        findings = _Findings()
        for rule in self.policy.combination_rules:
            if rule.unless_met_directly and rule.criterion in met_directly:
                continue
            found = [[name for name in condition.names if name in context] for condition in rule.conditions]
            if any(len(names) < condition.at_least for names, condition in zip(found, rule.conditions, strict=True)):
                continue
            if not self._supported(rule, found, context, scores):
                continue
            quoted = [names for names, condition in zip(found, rule.conditions, strict=True) if condition.quoted]
            findings.add(rule.criterion, *(item for names in quoted for name in names for item in context[name]))
        return findings

    def _supported(
        self,
        rule: CombinationRule,
        found: list[list[str]],
        context: dict[str, list[Evidence]],
        scores: _ModelScores | None,
    ) -> bool:
        """Weak signals alone ("my brother's 19" and "photos of the beach": both true, no story at all)
        count only if the model, reading the turn that completes the rule with the turns before it,
        leans towards its criterion."""
        weighed = [
            name
            for names, condition in zip(found, rule.conditions, strict=True)
            if condition.model_support_if_weak
            for name in names
        ]
        if scores is None or not weighed or set(weighed) - self.policy.weak_context:
            return True
        completing = max(item.turn for names in found for name in names for item in context[name])
        return scores.leans(rule.criterion, [completing], self.policy.model_support_ratio)

    # --- criteria the learned risk model finds --------------------------------

    def _model_scores(self, turns: Sequence[Turn]) -> _ModelScores | None:
        """The model's probabilities for the turns it reads: free text, not button presses."""
        if self.risk_reader is None:
            return None
        read = [index for index, turn in enumerate(turns) if turn.text and not turn.text.startswith("/")]
        probabilities = self.risk_reader.probabilities([turns[i].text for i in read], [turns[i].reading for i in read])
        return _ModelScores(self.risk_reader.model, dict(zip(read, probabilities, strict=True)))

    def _model_criteria(
        self,
        turns: Sequence[Turn],
        context: dict[str, list[Evidence]],
        scores: _ModelScores | None,
        *,
        adult_user: bool,
    ) -> _Findings:
        """Either the lexicon or the model can open a case; the evidence says which one and why.

        A turn framed as a hypothetical is answered with an offer of a person
        (SAFEGUARDING.md), whatever the model thinks of it; so is an adult's own
        situation, unless the model sees danger now.
        """
        findings = _Findings()
        if scores is None:
            return findings
        recent = {index for index, _ in self._recent(turns)}
        for index, criterion, probability in scores.flags():
            if turns[index].reading.hypothetical:
                continue
            needed = self.policy.model_needs_context.get(criterion)
            # The context must come while the flagged turn is still recent: a birthday present at
            # message 26 and an uncle at message 36 are two stories, not one.
            if needed and not (index in recent and needed & set(context)):
                continue
            if adult_user and criterion not in self.policy.critical_criteria:
                continue
            label = f"risk model: {self.policy.criterion_labels[criterion]} ({probability:.2f})"
            findings.add(criterion, Evidence(label, _excerpt(turns[index].text), index, Source.RISK_MODEL))
        return findings

    # --- ages -----------------------------------------------------------------

    def _own_age(self, turns: Sequence[Turn], nation: str | None) -> int | None:
        for turn in reversed(turns):
            if turn.reading.own_age is not None:
                return turn.reading.own_age
        for turn in reversed(turns):
            if turn.reading.own_school_year:
                return self._school_year_age(turn.reading.own_school_year, nation)
        return None

    @staticmethod
    def _turn_stating_own_age(turns: Sequence[Turn]) -> int:
        return next(
            (
                i
                for i in range(len(turns) - 1, -1, -1)
                if turns[i].reading.own_age is not None or turns[i].reading.own_school_year
            ),
            0,
        )

    def _age_band(self, turns: Sequence[Turn], own_age: int | None) -> str:
        for turn in reversed(turns):
            if turn.reading.own_age is not None:
                return age_band_for(turn.reading.own_age)
            if turn.stated_age_band in AGE_BANDS:
                return turn.stated_age_band
        return age_band_for(own_age)

    def _school_year_age(self, year: str, nation: str | None) -> int | None:
        """The youngest age in a school year, so an under-13 is never taken for older."""
        rules = self.lexicon.ages
        kind, number = year[0], int(year[1:])
        if kind == "s":
            return rules.scottish_secondary_offset + number if 1 <= number <= 6 else None
        if kind == "p":
            return rules.scottish_primary_offset + number if 1 <= number <= 7 else None
        if not 1 <= number <= 14:
            return None
        offset = rules.school_year_offset.get(nation or "", rules.school_year_offset["default"])
        return offset + number

    # --- triage -----------------------------------------------------------------

    def _triage(
        self, turns: Sequence[Turn], findings: _Findings, person: _Person, scores: _ModelScores | None, *, since: int
    ) -> Decision:
        """A handoff at the level the criteria call for, else an offer of a person, else nothing."""
        if person.adult:
            # An adult talking about their own adult life: still a handoff on danger,
            # never "an adult is involved".
            findings.evidence.pop(Criterion.ADULT_INVOLVED.value, None)
        criteria = {
            criterion: items
            for criterion, items in findings.evidence.items()
            if any(item.turn >= since for item in items)
        }
        about_someone_else = [
            Evidence("about someone else", "", index)
            for index, turn in enumerate(turns)
            if turn.reading.third_party
            or (turn.intent in self.policy.third_party_intents and turn.confidence >= self.policy.intent_confidence)
        ]
        if criteria and about_someone_else:
            criteria[Criterion.SOMEONE_ELSE.value] = about_someone_else
        if criteria:
            return Decision(
                action=Action.HANDOFF,
                level=Level.CRITICAL if self._critical(criteria) else Level.HIGH,
                criteria=tuple(sorted(criteria)),
                evidence=tuple(
                    sorted({item for items in criteria.values() for item in items if item.quote}, key=lambda e: e.turn)
                ),
                age_band=person.age_band,
                nation=person.nation,
            )
        offers = self._latest_offers(turns, None if person.adult else scores)
        if offers:
            return Decision(action=Action.OFFER, offer_reasons=offers, age_band=person.age_band, nation=person.nation)
        return Decision(age_band=person.age_band, nation=person.nation)

    def _critical(self, criteria: dict[str, list[Evidence]]) -> bool:
        if set(criteria) & self.policy.critical_criteria:
            return True
        critical_labels = {cue.label for cue in self.lexicon.cues.values() if cue.critical}
        return any(item.label in critical_labels for items in criteria.values() for item in items)

    def _latest_offers(self, turns: Sequence[Turn], scores: _ModelScores | None) -> tuple[str, ...]:
        """Reasons to offer a person, from the latest message only."""
        if not turns:
            return ()
        latest = turns[-1]
        reasons = []
        if scores is not None and any(
            scores.leans_anew(criterion, len(turns) - 1, self.policy.model_support_ratio)
            for criterion in scores.model.criteria
        ):
            # The model leans towards a risk without being sure: the young person chooses.
            reasons.append("unsure")
        if any(cue.criterion and cue.polarity == HYPOTHETICAL for cue in latest.reading.cues):
            reasons.append("hypothetical")
        if latest.intent in self.policy.intent_criteria and latest.reading.hypothetical:
            reasons.append("hypothetical")
        reasons += sorted(
            cue.name for cue in latest.reading.cues if cue.asserted and cue.name in self.policy.offer_cues
        )
        if latest.intent in self.policy.offer_intents:
            # The dialogue for this intent offers a person already.
            return ()
        return tuple(dict.fromkeys(reasons))
