"""Reads one message: the risk cues in it, with negation and hypotheticals, and the facts it states.

Built on spaCy: a blank English pipeline with the lookup lemmatizer (from
spacy-lookups-data, no downloads), spaCy's Matcher for the lexicon's patterns,
and token windows for negation scope, since a blank pipeline has no parser.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from safeguarding.lexicon import END_OF_PHRASE, Lexicon, load_lexicon
from safeguarding.reading import (
    ASSERTED,
    HYPOTHETICAL,
    HYPOTHETICAL_FRAME,
    NATION,
    NEGATED,
    OTHER_AGE,
    OTHER_SCHOOL_YEAR,
    OWN_AGE,
    OWN_SCHOOL_YEAR,
    PLATFORM,
    THIRD_PARTY,
    THIRD_PARTY_AGE,
    Cue,
    Fact,
    Reading,
)

MIN_AGE, MAX_AGE = 5, 99
_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u02bc": "'"})
_SENTENCE_ENDS = {".", "!", "?", "\n", "\n\n"}


def build_pipeline() -> Language:
    """A blank English pipeline with lookup lemmas: the same on spaCy 3.4 (Rasa) and current spaCy (app)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def load_pipeline(path: Path | None) -> Language:
    return spacy.load(path) if path else build_pipeline()


def normalise(text: str) -> str:
    """Lower-case with straight apostrophes, keeping every character's position."""
    lowered = text.translate(_CURLY).lower()
    # A few characters change length when lower-cased; positions must match the original.
    return lowered if len(lowered) == len(text) else text.translate(_CURLY)


class MessageReader:
    def __init__(self, lexicon: Lexicon | None = None, nlp: Language | None = None) -> None:
        self.lexicon = lexicon or load_lexicon()
        self.nlp = nlp or build_pipeline()
        self._cue_matcher = self._matcher((name, cue.patterns) for name, cue in self.lexicon.cues.items())
        self._marker_matcher = self._matcher(self.lexicon.markers.items())
        self._nation_matcher = self._matcher(self.lexicon.nations.items())
        self._platform_matcher = self._matcher(self.lexicon.platforms.items())

    def _matcher(self, entries: Iterable[tuple[str, Iterable[str]]]) -> Matcher:
        """Patterns that end a phrase go under the label with END_OF_PHRASE appended (see _matches)."""
        matcher = Matcher(self.nlp.vocab)
        for name, patterns in entries:
            for pattern in patterns:
                key = name + END_OF_PHRASE if self.lexicon.ends_phrase(pattern) else name
                matcher.add(key, self.lexicon.compile(pattern))
        return matcher

    def read(self, text: str) -> Reading:
        doc = self.nlp(normalise(text))
        markers = self._spans(self._marker_matcher, doc)
        hypothetical_starts = [span.start for span in markers.get("hypothetical", [])]
        if markers.get("informational"):
            # Asking for a project or a talk: the whole message is hypothetical.
            hypothetical_starts.append(0)
        cues = self._drop_hidden(
            tuple(
                self._cue(span, text, hypothetical_starts)
                for spans in self._spans(self._cue_matcher, doc).values()
                for span in spans
            )
        )
        facts = [
            *self._own_age_facts(doc, markers),
            *self._age_facts(OTHER_AGE, markers.get("other_age", []) + markers.get("shared_age", [])),
            *self._age_facts(THIRD_PARTY_AGE, markers.get("third_party_age", [])),
            *self._school_year_facts(OWN_SCHOOL_YEAR, markers.get("own_school_year", [])),
            *self._school_year_facts(
                OTHER_SCHOOL_YEAR,
                [
                    span
                    for span in markers.get("other_school_year", [])
                    if not self._inside_any(span, markers.get("own_school_year", []))
                ],
            ),
            *self._label_facts(NATION, self._last_mention(self._nation_matcher, doc)),
            *self._label_facts(PLATFORM, self._spans_with_labels(self._platform_matcher, doc)),
            *(Fact(THIRD_PARTY, "yes", span.start_char, span.end_char) for span in markers.get("third_party", [])),
            *(
                Fact(HYPOTHETICAL_FRAME, "yes", span.start_char, span.end_char)
                for span in markers.get("hypothetical", []) + markers.get("informational", [])
            ),
        ]
        return Reading(
            cues=tuple(sorted(cues, key=lambda cue: cue.start)),
            facts=tuple(sorted(facts, key=lambda fact: fact.start)),
        )

    # --- matching -----------------------------------------------------------

    def _matches(self, matcher: Matcher, doc: Doc) -> list[Span]:
        spans = []
        for match_id, start, end in matcher(doc):
            label = self.nlp.vocab.strings[match_id]
            if label.endswith(END_OF_PHRASE):
                if end < len(doc) and any(character.isalnum() for character in doc[end].text):
                    continue
                label = label.removesuffix(END_OF_PHRASE)
            spans.append(Span(doc, start, end, label=label))
        return spans

    def _spans(self, matcher: Matcher, doc: Doc) -> dict[str, list[Span]]:
        """Matches by label, keeping the longest where matches of one label overlap."""
        by_label: dict[str, list[Span]] = {}
        for span in self._matches(matcher, doc):
            by_label.setdefault(span.label_, []).append(span)
        return {label: filter_spans(spans) for label, spans in by_label.items()}

    def _spans_with_labels(self, matcher: Matcher, doc: Doc) -> list[Span]:
        return filter_spans(self._matches(matcher, doc))

    def _last_mention(self, matcher: Matcher, doc: Doc) -> list[Span]:
        """The last mention, the longest where mentions overlap ("northern ireland", not "ireland")."""
        spans = self._spans_with_labels(matcher, doc)
        return [max(spans, key=lambda span: span.start)] if spans else []

    @staticmethod
    def _label_facts(kind: str, spans: list[Span]) -> list[Fact]:
        return [Fact(kind, span.label_, span.start_char, span.end_char) for span in spans]

    @staticmethod
    def _inside_any(span: Span, others: list[Span]) -> bool:
        return any(other.start <= span.start and span.end <= other.end for other in others)

    def _cue(self, span: Span, original_text: str, hypothetical_starts: list[int]) -> Cue:
        name = span.label_
        definition = self.lexicon.cues[name]
        if self._negated(span, critical=definition.critical):
            polarity = NEGATED
        elif self._after_marker_in_sentence(span, hypothetical_starts):
            polarity = HYPOTHETICAL
        else:
            polarity = ASSERTED
        return Cue(
            name=name,
            criterion=definition.criterion,
            critical=definition.critical,
            quote=original_text[span.start_char : span.end_char],
            start=span.start_char,
            end=span.end_char,
            polarity=polarity,
        )

    def _drop_hidden(self, cues: tuple[Cue, ...]) -> tuple[Cue, ...]:
        """Cues that only hide others (cues.yml `hides`) go, with the cues they hide inside their words."""
        hiders = [cue for cue in cues if self.lexicon.cues[cue.name].hides]
        return tuple(
            cue
            for cue in cues
            if not self.lexicon.cues[cue.name].hides
            and not any(
                cue.name in self.lexicon.cues[hider.name].hides and hider.start <= cue.start and cue.end <= hider.end
                for hider in hiders
            )
        )

    # --- negation and hypotheticals -----------------------------------------

    def _negated(self, span: Span, *, critical: bool) -> bool:
        negation = self.lexicon.negation
        doc = span.doc
        if _among(span[0], negation.clause_breaks):
            # The cue opens a clause of its own: "he won't delete them | unless I do what he says".
            return False
        reach = negation.window
        offset = 0
        while offset < reach:
            offset += 1
            index = span.start - offset
            if index < 0:
                return False
            token = doc[index]
            if token.norm_ in negation.coordinators:
                # "nobody is pressuring me or threatening me": look back past the "or".
                reach = offset + negation.coordinator_window
                continue
            if _among(token, negation.clause_breaks):
                if self._denies_the_clause(doc, index):
                    # "it's not like he's pressuring me": the clause this break opens is denied.
                    return not any(t.norm_ in negation.double_negation_breakers for t in doc[index + 1 : span.start])
                return False
            if critical and token.text in negation.critical_clause_starts:
                return False
            if _among(token, negation.negators):
                if index > 0 and doc[index - 1].norm_ in negation.answer_verbs:
                    return False
                between = doc[index + 1 : span.start]
                return not any(
                    t.norm_ in negation.double_negation_breakers or t.lemma_ in negation.scope_breakers for t in between
                )
        return False

    def _denies_the_clause(self, doc: Doc, index: int) -> bool:
        negation = self.lexicon.negation
        if (
            doc[index].norm_ not in negation.negated_breaks
            or index < 1
            or not _among(doc[index - 1], negation.negators)
        ):
            return False
        return any(_among(doc[i], negation.denial_copulas) for i in range(max(index - 2, 0), index))

    @staticmethod
    def _after_marker_in_sentence(span: Span, marker_starts: list[int]) -> bool:
        doc = span.doc
        for start in marker_starts:
            if start > span.start:
                continue
            if not any(doc[i].text in _SENTENCE_ENDS for i in range(start, span.start)):
                return True
        return False

    # --- ages -----------------------------------------------------------------

    def _number(self, span: Span) -> int | None:
        doc = span.doc
        for token in span:
            value = None
            digits = "".join(ch for ch in token.text[:2] if ch.isdigit())
            if token.like_num and token.text.isdigit():
                value = int(token.text)
            elif token.text in self.lexicon.ages.number_words:
                value = self.lexicon.ages.number_words[token.text]
            elif digits and not token.like_num:
                value = int(digits)
            if value is None:
                continue
            following = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if following is not None and following.text in self.lexicon.ages.units_after:
                return None
            return value if MIN_AGE <= value <= MAX_AGE else None
        return None

    def _age_facts(self, kind: str, spans: list[Span]) -> list[Fact]:
        return [
            Fact(kind, str(age), span.start_char, span.end_char)
            for span in spans
            if (age := self._number(span)) is not None
        ]

    def _own_age_facts(self, doc: Doc, markers: dict[str, list[Span]]) -> list[Fact]:
        nearly_ends = {span.end for span in markers.get("nearly", [])}
        facts = []
        others = markers.get("other_age", [])
        for span in sorted(markers.get("own_age", []) + markers.get("shared_age", []), key=lambda s: s.start):
            # "my bf just turned 18": the "just turned 18" in it is his age.
            if self._inside_any(span, others):
                continue
            age = self._number(span)
            if age is None:
                continue
            number_end = next((t.i + 1 for t in span if t.like_num or t.text[:1].isdigit()), span.end)
            if number_end in nearly_ends:
                age -= 1
            facts.append(Fact(OWN_AGE, str(age), span.start_char, span.end_char))
        if not facts and self._is_bare_age(doc) and (age := self._number(doc[:])) is not None:
            facts.append(Fact(OWN_AGE, str(age), 0, len(doc.text)))
        return facts

    @staticmethod
    def _is_bare_age(doc: Doc) -> bool:
        """A reply that is just an age: "14", "fourteen", "14!", "15 years old"."""
        words = [t for t in doc if not t.is_punct]
        return (
            0 < len(words) <= 3
            and (words[0].like_num or words[0].text[:1].isdigit())
            and all(t.text in {"years", "year", "yrs", "old", "yo"} for t in words[1:])
        )

    def _school_year_facts(self, kind: str, spans: list[Span]) -> list[Fact]:
        return [
            Fact(kind, year, span.start_char, span.end_char)
            for span in spans
            if (year := self._school_year(span)) is not None
        ]

    @staticmethod
    def _school_year(span: Span) -> str | None:
        """ "year 9", "yr9", "s3", "p7" as "y9", "y9", "s3", "p7"."""
        text = "".join(t.text for t in span if t.like_num or t.text[:1] in {"y", "s", "p"})
        text = text.replace("year", "y").replace("yr", "y")
        return text if text[:1] in {"y", "s", "p"} and text[1:].isdigit() else None


def _among(token: Token, words: frozenset[str]) -> bool:
    """The token is one of the words, as normalised ("dont" -> "do not") or as written ("-", "...")."""
    return token.norm_ in words or token.text in words
