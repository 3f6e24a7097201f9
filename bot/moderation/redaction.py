"""Hiding identifying details from moderators: names, phone numbers, emails, addresses and
postcodes, schools, social-media handles and links.

Presidio's recognisers find phones (Google's libphonenumber, UK first), emails and URLs;
UK patterns are Presidio pattern recognisers: postcodes, addresses, schools as UK schools
are named (a place and a kind, a saint or the faith, a bishop, "Ysgol ..."), and account
names by their shape (an underscore anywhere; digits, inner capitals or dots beside any of
many platforms, however it is spelt); first names come from the list that gender-guesser ships
(about 60,000 names from many countries). Nothing is downloaded at run time: the email
check reads the public-suffix snapshot tldextract ships.

Young people often type in lower case and many first names are ordinary words ("will",
"hope", "max"), so a name that is also a common English word (by spaCy's word
frequencies, from spacy-lookups-data) is hidden only when it is capitalised mid-sentence
or comes after words that introduce a name ("called", "my friend", "me and").
`make redaction-report` measures recall and precision per kind on a labelled sample.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import gender_guesser.detector
import regex
import tldextract
import yaml
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer, UrlRecognizer
from spacy.lang.en.stop_words import STOP_WORDS

from bot.settings import PROJECT_ROOT

# When two findings overlap, the more specific kind names the placeholder.
KINDS = ("email", "url", "handle", "phone", "postcode", "address", "school", "name")
# A word at least this frequent (log probability) is an ordinary word first and a name second.
COMMON_WORD_LOG_PROB = -11.5
# A word rarer than this (towns and shops are commoner) where a school is expected is a school's name.
RARE_WORD_LOG_PROB = -17.0

# Platforms where a young person has an account, as they type them ("snp", "snapp", "instagrm",
# "tik tok"): a name next to one of these is an account's name.
_APPS = (
    r"sna?pp?(?:\s?cha?t)?|sc|insta(?:gra?m)?|insty|ig|tik\s?tok|tt|discord|disc|dc|twitter|x|kik|telegram|tg|"
    r"whatsapp|wa|signal|facebook|fb|messenger|twitch|youtube|yt|reddit|tumblr|pinterest|vsco|roblox|minecraft|"
    r"xbox|xbl|psn|playstation|steam|epic|fortnite|threads|bereal|wizz|yubo|hoop|omegle|spotify|linktree|onlyfans"
)
_ACCOUNT_WORDS = (
    r"name|username|user name|display name|user|handle|account|acc|id|tag|gamertag|gt|ign|channel|page|profile|"
    r"server|@"
)
# Words between a platform and the account's name: "kik me X", "discord hes X", "twitch as X".
_ACCOUNT_LINKS = r"is|was|=|:|-|me|him|her|them|hes|he's|shes|she's|its|it's|as|called|named|by|on"
# A token shaped like an account name rather than a word: a digit or an underscore, a capital
# inside it ("ItzKaylumTV") or a dot between letters ("izzy.bxx"); never ending in a full stop.
_HANDLE_SHAPED = (
    r"(?-i:(?=[A-Za-z0-9_.]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_.]*(?:[0-9_]|[a-z][A-Z]|[A-Za-z]\.[A-Za-z])"
    r"[A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z][A-Za-z0-9.]*_)"
)
_STREET_TYPES = (
    r"road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|court|ct|place|pl|grove|gardens|"
    r"terrace|hill|park|row|walk|square|sq|mews|rise|view|green|parade|estate|flats|house|towers"
)
# The kinds of school in England, Wales, Scotland and Northern Ireland, longest first.
_SCHOOL_TYPES = (
    r"sixth form college|sixth form|academy|high school|secondary school|primary school|grammar school|"
    r"upper school|middle school|lower school|junior school|infant school|infants school|prep school|"
    r"free school|studio school|community school|community college|sports college|technology college|"
    r"school|college|collegiate|primary|secondary|grammar|high|comprehensive|comp|juniors|infants|utc"
)
# Said between a school's name and its kind: "Holy Trinity C of E Primary", "St Peter's RC High".
_SCHOOL_DENOMINATIONS = (
    r"c\.? ?of ?e\.?|cofe|ce|rc|r\.c\.|catholic|roman catholic|church of england|methodist|jewish|islamic|"
    r"integrated|community|boys'?|girls'?|junior and infant"
)
# Schools named for a faith rather than a place, often said without "school": "Our Lady's", "Sacred Heart".
_FAITH_SCHOOL_NAMES = (
    r"our lady['’]?s|our lady of (?:the )?[a-z]+|sacred heart|holy (?:trinity|cross|family|rosary|name|spirit|"
    r"ghost|redeemer|child|angels)|corpus christi|christ the king|notre dame|st\.? [a-z]+['’]?s|saint [a-z]+['’]?s"
)
# Welsh, Scottish Gaelic and Irish-medium schools put the kind first: "Ysgol Glan ...", "Gaelscoil ...".
_SCHOOL_FIRST_WORDS = r"ysgol|sgoil|gaelscoil|bunscoil|col[aá]iste|scoil"
# Words that never start a school's own name ("at my school" names no school).
_NOT_A_SCHOOL_NAME = (
    r"my|the|our|his|her|a|an|this|that|their|same|new|old|your|whole|at|to|in|of|from|go|went|after|before|"
    r"secondary|primary|high|sixth|summer|boarding|private|state|any|every|another|other|different|next|last|"
    r"for|and|or|but|so|is|was|it|its|no|not|some|all|year|hate|love|like|with|about|on|back|off|leave|left"
)
# Capitalised words that start sentences rather than schools' names.
_SENTENCE_WORDS = r"I|My|The|Our|Your|His|Her|Their|At|In|To|From|Then|And|But|So|After|Before|This|That|Every|No|Any"
# Chat words that gender-guesser also lists as names.
CHAT_WORDS = frozenset({"im", "ive", "ill", "id", "u", "ur", "nan", "nana", "mum", "mam", "dad", "lol", "omg", "pls"})
_DEFAULT_SCORE = 0.6


def _title_case(alternatives: str) -> str:
    """'high school|utc' -> 'High School|UTC': a school's kind as written in its name."""
    return "|".join(word.upper() if len(word) <= 3 else word.title() for word in alternatives.split("|"))


PATTERN_RECOGNISERS = {
    # Royal Mail's format: outward code (area, district) then inward code (sector, unit).
    "postcode": [r"(?i)\b[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][ABD-HJLNP-UW-Z]{2}\b"],
    # UK numbers as teenagers type them, including ones libphonenumber thinks unallocated.
    "phone": [r"(?<![\d+])(?:\+44\s?|0)(?:7\d{3}|1\d{3}|2\d|3\d{2}|8\d{2})[\s-]?\d{3}[\s-]?\d{3,4}(?!\d)"],
    "handle": [
        r"(?<![\w@.])@[A-Za-z0-9_.]{2,30}\b",
        # "my snap is jake_22", "add me on insta: lily.r": the name after an app's name.
        rf"(?i)(?<=\b(?:{_APPS})(?:\s+(?:{_ACCOUNT_WORDS}))?\s*(?:is|=|:|-|'s|s)?\s+@?)"
        r"[A-Za-z][A-Za-z0-9_.]*[0-9_.][A-Za-z0-9_.]*",
        rf"(?i)(?<=\b(?:{_APPS})\s*(?:{_ACCOUNT_WORDS})?\s*(?::|=|is)\s*@?)[A-Za-z][A-Za-z0-9_.]{{2,29}}\b",
        r"(?i)(?<=\b(?:username|user name|handle|gamertag)\s*(?:is|:|=|was)\s*@?)[A-Za-z0-9_.]{3,30}\b",
        # "kik me lonelyboy4u", "on discord hes night.owl", "twitch as ItzKaylumTV": a name shaped like
        # an account's, a few linking words after a platform or an account word.
        rf"(?i)(?<=\b(?:{_APPS}|{_ACCOUNT_WORDS})(?:\s*(?:{_ACCOUNT_LINKS})){{0,3}}\s+@?){_HANDLE_SHAPED}(?![\w@])",
        # "its ghost_42 on fortnite": the same shape, followed by its platform.
        rf"(?i)(?<![\w@./#-]){_HANDLE_SHAPED}(?=\s+on\s+(?:{_APPS})\b)",
        # "goes by sk8r_boi", "add lily.r": verbs that take an account's name.
        rf"(?i)(?<=\b(?:goes by|go by|went by|add|added|follow|followed|dm|dmd|dm'd|message|messaged)\s+@?)"
        rf"{_HANDLE_SHAPED}(?![\w@])",
        # Ordinary words never have an underscore: a word with one is an account's name wherever it is.
        r"(?<![\w@./#-])(?=[A-Za-z0-9_.]*[A-Za-z])[A-Za-z0-9.]*_[A-Za-z0-9_.]*[A-Za-z0-9_](?![\w@])",
        # Reddit's "u/name".
        r"(?<=\bu/)[A-Za-z0-9_-]{3,20}\b",
        # Discord's old name#1234 tags.
        r"\b[A-Za-z0-9_.]{2,32}#\d{4}\b",
    ],
    "address": [
        rf"(?i)\b\d{{1,4}}[a-z]?,?\s+(?:[a-z'-]+\s+){{1,3}}(?:{_STREET_TYPES})\b",
        r"\b(?:[A-Z][a-z'-]+\s+){1,3}(?:Road|Street|Avenue|Lane|Close|Drive|Way|Crescent|Court|Place|Grove|"
        r"Gardens|Terrace|Hill|Row|Walk|Square|Mews|Rise|Parade|Estate)\b",
        rf"(?i)(?<=\b(?:live|living|lives|stay|staying|moved)\s+(?:on|at|in)\s+)(?:[a-z'-]+\s+){{1,3}}"
        rf"(?:{_STREET_TYPES})\b",
        r"(?i)\bflat\s+\d+[a-z]?\b(?:,?\s+(?:[a-z'-]+\s+){1,3}(?:house|court|tower|towers|block))?",
    ],
    "school": [
        # "Oakfield Academy", "Holy Trinity C of E Primary", "Wickersley School and Sports College".
        rf"\b(?:St\.?\s+)?(?:[A-Z][\w'’-]*\s+){{1,4}}(?:(?i:{_SCHOOL_DENOMINATIONS})\s+)?"
        rf"(?:{_title_case(_SCHOOL_TYPES)})\b(?:\s+(?:and|&)\s+(?:[A-Z][\w'’-]*\s+){{0,2}}"
        rf"(?:{_title_case(_SCHOOL_TYPES)})\b)?",
        # "Parkside school": a capitalised name, then the kind of school in any case.
        rf"\b(?:(?!(?:{_SENTENCE_WORDS})\b)[A-Z][\w'’-]*\s+){{1,3}}(?i:(?:(?:{_SCHOOL_DENOMINATIONS})\s+)?"
        rf"(?:{_SCHOOL_TYPES}))\b",
        # Named for a saint or the faith, often said without "school": "St Mary's", "st aidans", "Sacred Heart".
        rf"(?i)\b(?:{_FAITH_SCHOOL_NAMES})\b(?!\s+(?:{_STREET_TYPES})\b)",
        # Named for a bishop or cardinal: "Bishop Vesey's", "Cardinal Newman".
        r"\b(?:Bishop|Archbishop|Cardinal)\s+[A-Z][a-z]+(?:['’]s)?",
        # "Ysgol Glan Clwyd", "gaelscoil na mara": the kind first, then up to three words of name.
        rf"(?i)\b(?:{_SCHOOL_FIRST_WORDS})(?:\s+(?!(?:{_NOT_A_SCHOOL_NAME})\b)[\w'’-]+){{1,3}}",
        rf"(?i)(?<=\b(?:go to|goes to|going to|went to|go|goes|went|at|attend|attends|from|in|left|moved to|"
        rf"year \d+ at|year \d+ in|yr \d+ at)\s+)"
        rf"(?:(?!(?:{_NOT_A_SCHOOL_NAME})\b)[a-z'’-]+\s+){{1,3}}(?:(?:{_SCHOOL_DENOMINATIONS})\s+)?"
        rf"(?:{_SCHOOL_TYPES})\b",
        r"(?i)\bst\.?\s+[a-z]+(?:'s|s)?(?=\s+(?:rc|ce|catholic|c of e|primary|high|school|academy)\b)"
        r"(?:\s+(?:rc|ce|catholic|c of e))?(?:\s+(?:primary|high|school|academy))*",
    ],
}

# Words that introduce a name, so that even an ordinary word after them is one ("me and will").
_NAME_CUES = regex.compile(
    r"(?i)(?:\b(?:called|named|name is|names is|name's|names|call me|calls himself|calls herself|"
    r"friend|friends|boyfriend|girlfriend|bf|gf|bestie|mate|brother|sister|bro|sis|cousin|ex|"
    r"me and|and me|with|told|tell|texted|messaged|dm'd|dmed|said to|this boy|this girl|this guy|"
    r"mr|mrs|miss|ms|sir|i'm|im|i am|it's|its|it was|hi|hey)\s+)$"
)
# Where a young person names their school on its own: "i left Heathside", "we go to Parkside".
_SCHOOL_ALONE = regex.compile(
    r"(?i:\b(?:go to|goes to|going to|went to|go|goes|went|attend|attends|attended|at|left|leaving|"
    r"moved to|moved from|started at|year \d+ at|yr \d+ at)\s+)([A-Z][a-z'’-]+)\b"
)
_PLATFORM = regex.compile(rf"(?i)(?:{_APPS})")
_TITLES = regex.compile(r"(?i)\b(?:mr|mrs|miss|ms|sir|dr)\.?\s+[A-Za-z][a-z'-]+")
_WORD = regex.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_START = regex.compile(r"(?:^|[.!?\n]\s*|[\"“(]\s*)$")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def _apart(one: Finding, other: Finding) -> bool:
    return one.end <= other.start or one.start >= other.end


def _results(recogniser: PatternRecognizer | PhoneRecognizer, text: str) -> list[RecognizerResult]:
    return recogniser.analyze(text, recogniser.supported_entities, None)


class _OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recogniser, checking domains against tldextract's bundled snapshot
    instead of fetching the public-suffix list over the network."""

    _domains = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool:
        return self._domains(pattern_text).fqdn != ""


class _LinearUrlRecognizer(UrlRecognizer):
    """Presidio's URL patterns, each allowed to start only where a run of host characters starts.

    Tried from every position inside a long run such as "a.a.a.…", the patterns backtracked over
    their whole TLD list each time: 11 s for one 4,000-character message. From the run's start only,
    the same URLs are found in linear time."""

    _HOST = r"(www\d{0,3}[.])?[a-z0-9.\-]{1,253}[.]"

    def __init__(self) -> None:
        patterns = []
        for pattern in self.PATTERNS:
            # A new Presidio release with other patterns must be looked at again, not silently slow.
            if pattern.regex.count(self._HOST) != 1:
                raise RuntimeError(f"Presidio's {pattern.name} URL pattern has changed: review _LinearUrlRecognizer")
            anchored = pattern.regex.replace(self._HOST, r"(?<![a-z0-9.\-])" + self._HOST)
            patterns.append(Pattern(pattern.name, anchored, pattern.score))
        super().__init__(patterns=patterns)


@cache
def _word_log_probs() -> dict[str, float]:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return json.load(stream)


@cache
def _first_names() -> frozenset[str]:
    detector = gender_guesser.detector.Detector(case_sensitive=False)
    return frozenset(name for name in detector.names if name.isalpha() and len(name) > 1)


class Redactor:
    def __init__(self, placeholders: dict[str, str], never_hidden: Iterable[str]) -> None:
        self.placeholders = placeholders
        self.never_hidden = sorted({item.lower() for item in never_hidden})
        self.recognisers: list[tuple[str, object]] = [
            ("phone", PhoneRecognizer(supported_regions=("GB",), leniency=0)),
            ("email", _OfflineEmailRecognizer()),
            ("url", _LinearUrlRecognizer()),
        ]
        for kind, patterns in PATTERN_RECOGNISERS.items():
            recogniser = PatternRecognizer(
                supported_entity=kind.upper(),
                name=f"uk_{kind}",
                patterns=[
                    Pattern(f"{kind}_{number}", pattern, _DEFAULT_SCORE) for number, pattern in enumerate(patterns)
                ],
                global_regex_flags=0,
            )
            self.recognisers.append((kind, recogniser))
        self.first_names = _first_names()
        self.log_probs = _word_log_probs()

    def find(self, text: str) -> list[Finding]:
        """Every identifying detail, without overlaps, in order; the longest finding wins an overlap."""
        found = [
            Finding(kind, result.start, result.end)
            for kind, recogniser in self.recognisers
            for result in _results(recogniser, text)
        ]
        found += self._names(text)
        found += self._schools_named_alone(text)
        kept_visible = self._help_services(text)
        chosen: list[Finding] = []
        for finding in sorted(found, key=lambda f: (-(f.end - f.start), KINDS.index(f.kind))):
            if all(_apart(finding, other) for other in [*chosen, *kept_visible]):
                chosen.append(finding)
        return sorted(chosen, key=lambda f: f.start)

    def redact(self, text: str) -> str:
        for finding in reversed(self.find(text)):
            text = text[: finding.start] + self.placeholders[finding.kind] + text[finding.end :]
        return text

    def _help_services(self, text: str) -> list[Finding]:
        lowered = text.lower()
        return [
            Finding("kept", match.start(), match.end())
            for item in self.never_hidden
            # Not "999" inside "07700 900 999".
            for match in regex.finditer(rf"(?<![\w.]|\d[\s-]){regex.escape(item)}(?!\w|[\s-]\d)", lowered)
        ]

    def _names(self, text: str) -> list[Finding]:
        findings = [Finding("name", match.start(), match.end()) for match in _TITLES.finditer(text)]
        for match in _WORD.finditer(text):
            word = match.group()
            lower = word.lower().replace("’", "'").removesuffix("'s")
            if lower not in self.first_names or word == "I":
                continue
            before = text[: match.start()]
            # Stop words ("so", "will") are too often just words, a platform ("yubo", "kik") is not a person,
            # and a name inside a link or an email is part of it.
            if (
                lower in STOP_WORDS
                or lower in CHAT_WORDS
                or _PLATFORM.fullmatch(word)
                or before.endswith((".", "/", "@"))
            ):
                continue
            if self.log_probs.get(lower, -20.0) <= COMMON_WORD_LOG_PROB or (
                _NAME_CUES.search(before) or (word[0].isupper() and not _SENTENCE_START.search(before))
            ):
                end = match.end() - (2 if word.endswith(("'s", "’s")) else 0)
                findings.append(Finding("name", match.start(), self._with_surname(text, end)))
        return findings

    def _schools_named_alone(self, text: str) -> list[Finding]:
        findings = []
        for match in _SCHOOL_ALONE.finditer(text):
            word = match.group(1).lower().replace("’", "'").removesuffix("'s")
            if self.log_probs.get(word, -20.0) < RARE_WORD_LOG_PROB and not _PLATFORM.fullmatch(word):
                findings.append(Finding("school", match.start(1), match.end(1)))
        return findings

    @staticmethod
    def _with_surname(text: str, end: int) -> int:
        """In "Jake Smith" a capitalised word straight after a first name is part of it."""
        following = regex.match(r" ([A-Z][a-z'-]+)", text[end:])
        if following and following.group(1).lower() not in STOP_WORDS:
            return end + following.end()
        return end


@cache
def load_redactor(content_dir: Path = PROJECT_ROOT / "content") -> Redactor:
    with open(content_dir / "redaction.yml", encoding="utf-8") as stream:
        words = yaml.safe_load(stream)
    return Redactor(words["placeholders"], words["never_hidden"])
