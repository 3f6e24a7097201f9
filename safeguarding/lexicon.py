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

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from safeguarding.strict_yaml import StrictReader
from safeguarding.vocabulary import Criterion

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
    # Messages in which each pattern finds this cue, asserted; and messages in which
    # it is found but negated. tests/safeguarding/test_lexicon.py holds the cue to them.
    examples: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()
    # A cue that only hides others: these cues, found inside its words, are not
    # reported, and neither is it ("tell a teacher" names an adult who helps).
    hides: frozenset[str] = frozenset()


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
    negated_breaks: frozenset[str]
    denial_copulas: frozenset[str]
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


_TOP_KEYS = ("word_sets", "cues", "markers", "negation", "ages", "nations", "platforms")
_CUE_KEYS, _CUE_OPTIONAL_KEYS = ("label", "patterns"), ("criterion", "critical", "examples", "negated", "hides")
_NEGATION_KEYS = tuple(field.name for field in fields(Negation))
_AGE_KEYS = tuple(field.name for field in fields(AgeRules))


def _lower_tuple(values: Any) -> tuple[str, ...]:
    for value in values:
        if isinstance(value, bool):
            # YAML reads a bare no, on, off or yes as a boolean: quote such words.
            raise LexiconError(f"a word list holds the boolean {value}; quote the word in the YAML")
    return tuple(str(value).lower() for value in values)


class _Reader(StrictReader):
    """Reads cues.yml."""

    def words(self, values: Any, where: str) -> tuple[str, ...]:
        if not isinstance(values, list):
            self.problems.append(f"{where}: expected a list")
            return ()
        try:
            return _lower_tuple(values)
        except LexiconError as error:
            self.problems.append(f"{where}: {error}")
            return ()

    def texts(self, values: Any, where: str, *, non_empty: bool = False) -> tuple[str, ...]:
        if not isinstance(values, list) or not all(isinstance(value, str) and value.strip() for value in values):
            self.problems.append(f"{where}: expected a list of text")
            return ()
        if non_empty and not values:
            self.problems.append(f"{where}: expected at least one")
        return tuple(values)

    def number(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{where}: expected a whole number")
            return 0
        return value

    def numbers(self, data: Any, where: str) -> dict[str, int]:
        return {str(key): self.number(value, f"{where}.{key}") for key, value in self.named(data, where).items()}


def _cue(read: _Reader, name: str, entry: Any) -> CueDefinition:
    where = f"cues.{name}"
    entry = read.mapping(entry, where, _CUE_KEYS, _CUE_OPTIONAL_KEYS)
    criterion = entry.get("criterion")
    if criterion is not None and criterion not in [member.value for member in Criterion]:
        read.problems.append(f"{where}.criterion: {criterion!r} is not one of the known criteria")
    critical = entry.get("critical", False)
    if not isinstance(critical, bool):
        read.problems.append(f"{where}.critical: expected true or false")
    return CueDefinition(
        name=name,
        criterion=criterion,
        critical=bool(critical),
        label=read.text(entry.get("label"), f"{where}.label"),
        patterns=read.texts(entry.get("patterns"), f"{where}.patterns", non_empty=True),
        examples=read.texts(entry.get("examples", []), f"{where}.examples"),
        negated=read.texts(entry.get("negated", []), f"{where}.negated"),
        hides=frozenset(read.words(entry.get("hides", []), f"{where}.hides")),
    )


def _patterns(read: _Reader, data: Any, where: str) -> dict[str, tuple[str, ...]]:
    return {name: read.texts(patterns, f"{where}.{name}") for name, patterns in read.named(data, where).items()}


def parse_lexicon(data: Any) -> Lexicon:
    """The lexicon, or a LexiconError naming every unknown key, missing key and unresolved name at once."""
    read = _Reader()
    data = read.mapping(data, "cues.yml", _TOP_KEYS)
    negation = read.mapping(data.get("negation", {}), "negation", _NEGATION_KEYS)
    ages = read.mapping(data.get("ages", {}), "ages", _AGE_KEYS)
    lexicon = Lexicon(
        word_sets={
            name: read.words(words, f"word_sets.{name}")
            for name, words in read.named(data.get("word_sets", {}), "word_sets").items()
        },
        cues={name: _cue(read, name, entry) for name, entry in read.named(data.get("cues", {}), "cues").items()},
        markers=_patterns(read, data.get("markers", {}), "markers"),
        negation=Negation(
            negators=frozenset(read.words(negation.get("negators", []), "negation.negators")),
            window=read.number(negation.get("window", 0), "negation.window"),
            double_negation_breakers=frozenset(
                read.words(negation.get("double_negation_breakers", []), "negation.double_negation_breakers")
            ),
            scope_breakers=frozenset(read.words(negation.get("scope_breakers", []), "negation.scope_breakers")),
            answer_verbs=frozenset(read.words(negation.get("answer_verbs", []), "negation.answer_verbs")),
            coordinators=frozenset(read.words(negation.get("coordinators", []), "negation.coordinators")),
            coordinator_window=read.number(negation.get("coordinator_window", 0), "negation.coordinator_window"),
            clause_breaks=frozenset(read.words(negation.get("clause_breaks", []), "negation.clause_breaks")),
            negated_breaks=frozenset(read.words(negation.get("negated_breaks", []), "negation.negated_breaks")),
            denial_copulas=frozenset(read.words(negation.get("denial_copulas", []), "negation.denial_copulas")),
            critical_clause_starts=frozenset(
                read.words(negation.get("critical_clause_starts", []), "negation.critical_clause_starts")
            ),
        ),
        ages=AgeRules(
            number_words=read.numbers(ages.get("number_words", {}), "ages.number_words"),
            units_after=frozenset(read.words(ages.get("units_after", []), "ages.units_after")),
            school_year_offset=read.numbers(ages.get("school_year_offset", {}), "ages.school_year_offset"),
            scottish_secondary_offset=read.number(
                ages.get("scottish_secondary_offset", 0), "ages.scottish_secondary_offset"
            ),
            scottish_primary_offset=read.number(ages.get("scottish_primary_offset", 0), "ages.scottish_primary_offset"),
        ),
        nations=_patterns(read, data.get("nations", {}), "nations"),
        platforms=_patterns(read, data.get("platforms", {}), "platforms"),
    )
    for cue in lexicon.cues.values():
        for hidden in sorted(cue.hides - set(lexicon.cues)):
            read.problems.append(f"cues.{cue.name}.hides: {hidden!r} is not one of the known cues")
    # Compile everything once so that a typo (an unknown @set, a bad regular
    # expression) fails when the lexicon loads, not mid-conversation.
    for where, entries in [
        ("cues", {name: cue.patterns for name, cue in lexicon.cues.items()}),
        ("markers", lexicon.markers),
        ("nations", lexicon.nations),
        ("platforms", lexicon.platforms),
    ]:
        for name, patterns in entries.items():
            for pattern in patterns:
                try:
                    lexicon.compile(pattern)
                except LexiconError as error:
                    read.problems.append(f"{where}.{name}: {error}")
    if read.problems:
        raise LexiconError("cues.yml is not valid:\n  " + "\n  ".join(read.problems))
    return lexicon


@cache
def load_lexicon(path: Path = DEFAULT_LEXICON_PATH) -> Lexicon:
    with open(path, encoding="utf-8") as stream:
        return parse_lexicon(yaml.safe_load(stream))


# A cue's examples document and test it; they do not change what it finds.
_DOCUMENTATION_KEYS = ("examples", "negated")


def fingerprint(path: Path = DEFAULT_LEXICON_PATH) -> str:
    """A digest of what the lexicon finds: models trained on its features stay valid while it holds."""
    with open(path, encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    for entry in data.get("cues", {}).values():
        for key in _DOCUMENTATION_KEYS:
            entry.pop(key, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
