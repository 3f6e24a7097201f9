"""The risk policy (data/safeguarding/policy.yml), loaded strictly.

A misspelt key or a name that resolves to nothing would otherwise switch a rule
off in silence: the loader refuses both, naming what is wrong. Cue names must be
in the lexicon (cues.yml), intents and responses in domain.yml, criteria in
``vocabulary.Criterion``, context facts in ``vocabulary.ContextFact``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from safeguarding.lexicon import DEFAULT_LEXICON_PATH, load_lexicon
from safeguarding.strict_yaml import StrictReader
from safeguarding.vocabulary import ContextFact, Criterion

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY_PATH = PROJECT / "data" / "safeguarding" / "policy.yml"
DEFAULT_DOMAIN_PATH = PROJECT / "domain.yml"


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class AdviceGroup:
    when: frozenset[str]
    say: tuple[str, ...]
    and_next: bool


@dataclass(frozen=True)
class Jokes:
    """In a message with one of `cues` and none of `unless`, the cues in `cancels` do not count."""

    cues: frozenset[str]
    unless: frozenset[str]
    cancels: frozenset[str]


@dataclass(frozen=True)
class Condition:
    """Some of these cues or context facts, found in the latest turns."""

    names: tuple[str, ...]
    # How many different names must be found; 0 quotes them when found and requires none.
    at_least: int
    # Whether what was found is quoted to the helpline worker as evidence.
    quoted: bool
    # When every name found here is weak (`weak_context`), the rule counts only if the
    # risk model, where it runs, supports the criterion.
    model_support_if_weak: bool


@dataclass(frozen=True)
class CombinationRule:
    """Weak signals that meet a criterion together: every condition holds."""

    criterion: str
    conditions: tuple[Condition, ...]
    # The rule stands back when a cue or an intent of one message meets the criterion itself.
    unless_met_directly: bool


@dataclass(frozen=True)
class Policy:
    intent_criteria: dict[str, str]
    intent_labels: dict[str, str]
    intent_confidence: float
    criterion_context_cues: dict[str, frozenset[str]]
    intent_evidence: dict[str, frozenset[str]]
    intent_cancelled_by: dict[str, frozenset[str]]
    jokes: Jokes
    context_ignores_negation: frozenset[str]
    third_party_intents: frozenset[str]
    critical_criteria: frozenset[str]
    question_intents: frozenset[str]
    image_cues: frozenset[str]
    told_image_cues: frozenset[str]
    offer_intents: frozenset[str]
    offer_cues: frozenset[str]
    combination_rules: tuple[CombinationRule, ...]
    handoff_advice: tuple[AdviceGroup, ...]
    # Context cues combine into a criterion only within this many recent turns, so
    # weak signals scattered over a long conversation do not add up.
    context_window_turns: int
    # What the helpline worker reads when the risk model found a criterion.
    criterion_labels: dict[str, str]
    weak_context: frozenset[str]
    model_needs_context: dict[str, frozenset[str]]
    model_support_ratio: float


def advice_for(groups: Sequence[AdviceGroup], causes: Sequence[str]) -> list[str]:
    """The responses to give with a handoff caused by these cues, intents and criteria."""
    matching = [group for group in groups if group.when & set(causes)]
    chosen = matching[:1]
    if chosen and chosen[0].and_next and len(matching) > 1:
        chosen.append(matching[1])
    return [response for group in chosen for response in group.say]


@dataclass(frozen=True)
class Names:
    """What a name in the policy may refer to."""

    cues: frozenset[str]
    intents: frozenset[str]
    responses: frozenset[str]
    criteria: frozenset[str]
    facts: frozenset[str]


class _Reader(StrictReader):
    """Reads policy.yml; names must resolve."""

    def __init__(self, names: Names) -> None:
        super().__init__()
        self.names = names

    def keyed(self, data: Any, where: str, kind: str) -> dict:
        """A mapping whose keys are names of one kind (intents, criteria)."""
        named = self.named(data, where)
        self.names_of(list(named), [kind], where)
        return named

    def names_of(self, values: Any, kinds: Iterable[str], where: str) -> frozenset[str]:
        if not isinstance(values, list):
            self.problems.append(f"{where}: expected a list")
            return frozenset()
        known = frozenset().union(*(getattr(self.names, kind) for kind in kinds))
        for value in values:
            if value not in known:
                self.problems.append(f"{where}: {value!r} is not one of the known {' or '.join(kinds)}")
        return frozenset(values)

    def cues(self, values: Any, where: str) -> frozenset[str]:
        return self.names_of(values, ["cues"], where)

    def criteria(self, values: Any, where: str) -> frozenset[str]:
        return self.names_of(values, ["criteria"], where)

    def intents(self, values: Any, where: str) -> frozenset[str]:
        return self.names_of(values, ["intents"], where)

    def number(self, value: Any, where: str, kind: type) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
            self.problems.append(f"{where}: expected a number")
            return kind(0)
        return kind(value)

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            self.problems.append(f"{where}: expected true or false")
        return bool(value)

    def combination_rule(self, data: Any, where: str) -> CombinationRule:
        rule = self.mapping(data, where, ["criterion", "all"], ["unless_met_directly"])
        conditions = rule.get("all", [])
        if not isinstance(conditions, list) or not conditions:
            self.problems.append(f"{where}.all: expected a list of conditions")
            conditions = []
        read_conditions = tuple(
            self.condition(condition, f"{where}.all[{number}]") for number, condition in enumerate(conditions, start=1)
        )
        if read_conditions and not any(condition.quoted for condition in read_conditions):
            self.problems.append(f"{where}.all: nothing is quoted, so the worker would not read why")
        return CombinationRule(
            criterion=next(iter(self.criteria([rule.get("criterion")], f"{where}.criterion")), ""),
            conditions=read_conditions,
            unless_met_directly=self.flag(rule.get("unless_met_directly", False), f"{where}.unless_met_directly"),
        )

    def condition(self, data: Any, where: str) -> Condition:
        condition = self.mapping(data, where, ["any"], ["at_least", "quoted", "model_support_if_weak"])
        names = condition.get("any", [])
        self.names_of(names, ["cues", "facts"], f"{where}.any")
        at_least = self.number(condition.get("at_least", 1), f"{where}.at_least", int)
        if isinstance(names, list) and not 0 <= at_least <= len(names):
            self.problems.append(f"{where}.at_least: expected 0 to {len(names)}, the number of names")
        return Condition(
            names=tuple(names) if isinstance(names, list) else (),
            at_least=at_least,
            quoted=self.flag(condition.get("quoted", True), f"{where}.quoted"),
            model_support_if_weak=self.flag(
                condition.get("model_support_if_weak", False), f"{where}.model_support_if_weak"
            ),
        )


_POLICY_KEYS = (
    "intent_criteria",
    "intent_confidence",
    "intent_cancelled_by",
    "jokes",
    "context_ignores_negation",
    "criterion_context_cues",
    "third_party_intents",
    "critical_criteria",
    "image_cues",
    "told_image_cues",
    "question_intents",
    "offer_intents",
    "offer_cues",
    "context_window_turns",
    "combination_rules",
    "weak_context",
    "model_support_ratio",
    "model_needs_context",
    "criterion_labels",
    "handoff_advice",
)


def known_names(domain_path: Path, lexicon_path: Path) -> Names:
    with open(domain_path, encoding="utf-8") as stream:
        domain = yaml.safe_load(stream)
    return Names(
        # An intent's evidence may be an adult's age given in the message, like a cue.
        cues=frozenset(load_lexicon(lexicon_path).cues) | {ContextFact.ADULT_AGE.value},
        intents=frozenset(domain.get("intents") or ()),
        responses=frozenset(domain.get("responses") or ()),
        criteria=frozenset(criterion.value for criterion in Criterion),
        facts=frozenset(fact.value for fact in ContextFact),
    )


def parse_policy(data: Any, names: Names) -> Policy:
    read = _Reader(names)
    data = read.mapping(data, "policy.yml", _POLICY_KEYS)

    intent_entries = {}
    for intent, entry in read.keyed(data.get("intent_criteria", {}), "intent_criteria", "intents").items():
        where = f"intent_criteria.{intent}"
        entry = read.mapping(entry, where, ["criterion", "label", "evidence"])
        intent_entries[intent] = (
            next(iter(read.criteria([entry.get("criterion")], f"{where}.criterion")), ""),
            read.text(entry.get("label"), f"{where}.label"),
            read.cues(entry.get("evidence", []), f"{where}.evidence"),
        )

    def cue_lists(key: str, name_kind: str) -> dict[str, frozenset[str]]:
        found = {}
        for name, cues in read.keyed(data.get(key, {}), key, name_kind).items():
            found[name] = read.cues(cues, f"{key}.{name}")
        return found

    advice = []
    for number, group in enumerate(data.get("handoff_advice") or [], start=1):
        where = f"handoff_advice[{number}]"
        group = read.mapping(group, where, ["when", "say"], ["and_next"])
        say = group.get("say", [])
        read.names_of(say, ["responses"], f"{where}.say")
        advice.append(
            AdviceGroup(
                read.names_of(group.get("when", []), ["cues", "intents", "criteria"], f"{where}.when"),
                tuple(say) if isinstance(say, list) else (),
                bool(group.get("and_next", False)),
            )
        )
    labels = read.keyed(data.get("criterion_labels", {}), "criterion_labels", "criteria")
    jokes = read.mapping(data.get("jokes", {}), "jokes", ["cues", "unless", "cancels"])
    rules = data.get("combination_rules", [])
    if not isinstance(rules, list):
        read.problems.append("combination_rules: expected a list")
        rules = []

    policy = Policy(
        intent_criteria={intent: criterion for intent, (criterion, _, _) in intent_entries.items()},
        intent_labels={intent: label for intent, (_, label, _) in intent_entries.items()},
        intent_evidence={intent: evidence for intent, (_, _, evidence) in intent_entries.items()},
        intent_confidence=read.number(data.get("intent_confidence"), "intent_confidence", float),
        criterion_context_cues=cue_lists("criterion_context_cues", "criteria"),
        intent_cancelled_by=cue_lists("intent_cancelled_by", "intents"),
        jokes=Jokes(
            cues=read.cues(jokes.get("cues"), "jokes.cues"),
            unless=read.cues(jokes.get("unless"), "jokes.unless"),
            cancels=read.cues(jokes.get("cancels"), "jokes.cancels"),
        ),
        context_ignores_negation=read.cues(data.get("context_ignores_negation"), "context_ignores_negation"),
        third_party_intents=read.intents(data.get("third_party_intents"), "third_party_intents"),
        critical_criteria=read.criteria(data.get("critical_criteria"), "critical_criteria"),
        question_intents=read.intents(data.get("question_intents"), "question_intents"),
        image_cues=read.cues(data.get("image_cues"), "image_cues"),
        told_image_cues=read.cues(data.get("told_image_cues"), "told_image_cues"),
        offer_intents=read.intents(data.get("offer_intents"), "offer_intents"),
        offer_cues=read.cues(data.get("offer_cues"), "offer_cues"),
        combination_rules=tuple(
            read.combination_rule(rule, f"combination_rules[{number}]") for number, rule in enumerate(rules, start=1)
        ),
        handoff_advice=tuple(advice),
        context_window_turns=read.number(data.get("context_window_turns"), "context_window_turns", int),
        criterion_labels={str(name): read.text(label, f"criterion_labels.{name}") for name, label in labels.items()},
        weak_context=read.names_of(data.get("weak_context"), ["cues", "facts"], "weak_context"),
        model_needs_context=cue_lists("model_needs_context", "criteria"),
        model_support_ratio=read.number(data.get("model_support_ratio"), "model_support_ratio", float),
    )
    if read.problems:
        raise PolicyError("policy.yml is not valid:\n  " + "\n  ".join(read.problems))
    return policy


@cache
def load_policy(
    path: Path = DEFAULT_POLICY_PATH,
    domain_path: Path = DEFAULT_DOMAIN_PATH,
    lexicon_path: Path = DEFAULT_LEXICON_PATH,
) -> Policy:
    with open(path, encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    return parse_policy(data, known_names(domain_path, lexicon_path))
