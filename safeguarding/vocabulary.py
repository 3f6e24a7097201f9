"""The words the assessment, the action server and the app share: one owner for each.

Values are plain strings on the wire (Rasa slots, JSON, database columns); these
enums are what the code compares them with. ``str`` mixed in, rather than
``StrEnum``, because the Rasa environment is Python 3.10.
"""

from __future__ import annotations

from enum import Enum


class _Word(str, Enum):
    def __str__(self) -> str:
        # The value in f-strings and logs on every Python, not "Criterion.coercion".
        return self.value


class Criterion(_Word):
    """The SAFEGUARDING.md criteria for a handoff ("When the bot must hand over to a human")."""

    ADULT_INVOLVED = "adult_involved"
    COERCION = "coercion"
    GROOMING = "grooming"
    UNDER_13 = "under_13"
    IMMEDIATE_RISK = "immediate_risk"
    # Criterion 6: any of the above, told about a friend or sibling.
    SOMEONE_ELSE = "someone_else"


class Action(_Word):
    """What the assessment decides for the conversation so far."""

    NONE = "none"
    OFFER = "offer"
    HANDOFF = "handoff"


class Level(_Word):
    """Triage of a handoff (SAFEGUARDING.md, Triage): the assessment's automatic levels, and the
    young person's own choice of a person."""

    CRITICAL = "critical"
    HIGH = "high"
    OFFERED = "offered"


class Source(_Word):
    """What found a piece of evidence."""

    LEXICON = "lexicon"
    INTENT = "intent"
    RISK_MODEL = "risk_model"


class ContextFact(_Word):
    """What the assessment reads from the latest turns besides the cues, for policy.yml's combination rules."""

    # An image named in a message that is not only a question about images.
    IMAGES = "images"
    # An age of 18 or over given for someone else.
    ADULT_AGE = "adult_age"
    # An age under 13: the young person's own (it carries over from any turn), a stated
    # age band, or the age or school year of someone else.
    UNDER_13_AGE = "under_13_age"
