"""The risk-cue lexicon (data/safeguarding/cues.yml) and its compact pattern syntax.

A pattern is a space-separated sequence of token specs, compiled into spaCy
Matcher patterns:

    word|other     the token's NORM is one of these ("n't" and "nt" norm to "not")
    ~lemma|other   the token's LEMMA is one of these (threatened -> threaten)
    @set           the token's LEMMA is in a named word set from the lexicon
    #              a number (digits or words)
    /regex/        the token's text matches the regular expression
    _              any token
    <end>          (last) the match ends the message, or is followed by
                   punctuation or an emoji: "send him one" but not "send him one message"

Alternatives of different kinds (``#|/^\\d+yo$/``) expand into several Matcher
patterns. Any spec may end in a quantifier: ?, +, *, or {n,m}.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parent.parent / "data" / "safeguarding" / "cues.yml"

_QUANTIFIER = re.compile(r"(\?|\+|\*|\{\d*,?\d*\})$")
_ALTERNATIVE = re.compile(r"/[^/]+/|[^|]+")
END_OF_PHRASE = "<end>"

TokenPattern = dict[str, Any]


class LexiconError(ValueError):
    pass


@dataclass(frozen=True)
class CueDefinition:
    name: str
    # The SAFEGUARDING.md criterion this cue meets on its own, or None for a
    # context cue that only counts together with others (see assessment.py).
    criterion: str | None
    critical: bool
    label: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Negation:
    negators: frozenset[str]
    window: int
    double_negation_breakers: frozenset[str]
    scope_breakers: frozenset[str]
    answer_verbs: frozenset[str]
    coordinators: frozenset[str]
    coordinator_window: int
    clause_breaks: frozenset[str]
    critical_clause_starts: frozenset[str]


@dataclass(frozen=True)
class AgeRules:
    number_words: dict[str, int]
    units_after: frozenset[str]
    school_year_offset: dict[str, int]
    scottish_secondary_offset: int
    scottish_primary_offset: int


@dataclass(frozen=True)
class Lexicon:
    word_sets: dict[str, tuple[str, ...]]
    cues: dict[str, CueDefinition]
    markers: dict[str, tuple[str, ...]]
    negation: Negation
    ages: AgeRules
    nations: dict[str, tuple[str, ...]]
    platforms: dict[str, tuple[str, ...]]

    @staticmethod
    def ends_phrase(pattern: str) -> bool:
        return pattern.split()[-1] == END_OF_PHRASE

    def compile(self, pattern: str) -> list[list[TokenPattern]]:
        """Matcher patterns for one pattern string (several when alternatives mix kinds).

        A final ``<end>`` is not a token: the reader checks what follows the match."""
        raws = pattern.split()
        if self.ends_phrase(pattern):
            raws = raws[:-1]
        if not raws or END_OF_PHRASE in raws:
            raise LexiconError(f"{END_OF_PHRASE} must end a pattern that has tokens: {pattern!r}")
        per_token = [self._token_alternatives(raw, pattern) for raw in raws]
        return [list(combination) for combination in itertools.product(*per_token)]

    def _token_alternatives(self, raw: str, pattern: str) -> list[TokenPattern]:
        op = None
        if not raw.endswith("/"):
            quantifier = _QUANTIFIER.search(raw)
            if quantifier and quantifier.start() > 0:
                op, raw = quantifier.group(1), raw[: quantifier.start()]
        if raw.startswith("~"):
            tokens: list[TokenPattern] = [{"LEMMA": {"IN": raw[1:].split("|")}}]
        else:
            tokens = self._plain_alternatives(_ALTERNATIVE.findall(raw), pattern)
        if op:
            tokens = [{**token, "OP": op} for token in tokens]
        return tokens

    def _plain_alternatives(self, alternatives: list[str], pattern: str) -> list[TokenPattern]:
        norms: list[str] = []
        lemmas: list[str] = []
        tokens: list[TokenPattern] = []
        for alternative in alternatives:
            if alternative == "_":
                tokens.append({})
            elif alternative == "#":
                tokens.append({"LIKE_NUM": True})
            elif len(alternative) > 2 and alternative.startswith("/") and alternative.endswith("/"):
                try:
                    re.compile(alternative[1:-1])
                except re.error as error:
                    raise LexiconError(f"bad regular expression {alternative} in {pattern!r}: {error}") from error
                tokens.append({"TEXT": {"REGEX": alternative[1:-1]}})
            elif alternative.startswith("@"):
                name = alternative[1:]
                if name not in self.word_sets:
                    raise LexiconError(f"unknown word set @{name} in {pattern!r}")
                lemmas.extend(self.word_sets[name])
            elif alternative:
                norms.append(alternative)
        if norms:
            tokens.append({"NORM": {"IN": norms}})
        if lemmas:
            tokens.append({"LEMMA": {"IN": lemmas}})
        if not tokens:
            raise LexiconError(f"empty token in {pattern!r}")
        return tokens


def _lower_tuple(values: Any) -> tuple[str, ...]:
    for value in values:
        if isinstance(value, bool):
            # YAML reads a bare no, on, off or yes as a boolean: quote such words.
            raise LexiconError(f"a word list holds the boolean {value}; quote the word in the YAML")
    return tuple(str(value).lower() for value in values)


def parse_lexicon(data: dict[str, Any]) -> Lexicon:
    negation = data["negation"]
    ages = data["ages"]
    lexicon = Lexicon(
        word_sets={name: _lower_tuple(words) for name, words in data["word_sets"].items()},
        cues={
            name: CueDefinition(
                name=name,
                criterion=entry.get("criterion"),
                critical=bool(entry.get("critical", False)),
                label=entry["label"],
                patterns=tuple(entry["patterns"]),
            )
            for name, entry in data["cues"].items()
        },
        markers={name: tuple(patterns) for name, patterns in data["markers"].items()},
        negation=Negation(
            negators=frozenset(_lower_tuple(negation["negators"])),
            window=int(negation["window"]),
            double_negation_breakers=frozenset(_lower_tuple(negation["double_negation_breakers"])),
            scope_breakers=frozenset(_lower_tuple(negation["scope_breakers"])),
            answer_verbs=frozenset(_lower_tuple(negation["answer_verbs"])),
            coordinators=frozenset(_lower_tuple(negation["coordinators"])),
            coordinator_window=int(negation["coordinator_window"]),
            clause_breaks=frozenset(_lower_tuple(negation["clause_breaks"])),
            critical_clause_starts=frozenset(_lower_tuple(negation["critical_clause_starts"])),
        ),
        ages=AgeRules(
            number_words={str(word): int(value) for word, value in ages["number_words"].items()},
            units_after=frozenset(_lower_tuple(ages["units_after"])),
            school_year_offset={str(k): int(v) for k, v in ages["school_year_offset"].items()},
            scottish_secondary_offset=int(ages["scottish_secondary_offset"]),
            scottish_primary_offset=int(ages["scottish_primary_offset"]),
        ),
        nations={name: tuple(patterns) for name, patterns in data["nations"].items()},
        platforms={name: tuple(patterns) for name, patterns in data["platforms"].items()},
    )
    # Compile everything once so that a typo fails when the lexicon loads, not mid-conversation.
    for patterns in [
        *(cue.patterns for cue in lexicon.cues.values()),
        *lexicon.markers.values(),
        *lexicon.nations.values(),
        *lexicon.platforms.values(),
    ]:
        for pattern in patterns:
            lexicon.compile(pattern)
    return lexicon


@cache
def load_lexicon(path: Path = DEFAULT_LEXICON_PATH) -> Lexicon:
    with open(path, encoding="utf-8") as stream:
        return parse_lexicon(yaml.safe_load(stream))
