"""The learning loop: flagged turns, redacted, written for review as Rasa NLU training data
and as risk-model examples. Never merged into data/ automatically: a person reads them first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.models import Event, EventType
from bot.moderation.models import FlagKind, ReviewFlag
from bot.moderation.redaction import Redactor

NLU_FILE = "nlu_review.yml"
RISK_FILE = "risk_review.yml"


@dataclass(frozen=True)
class Exported:
    nlu_examples: int
    risk_examples: int


def _said(conversation_id: str, *, session: Session) -> list[str]:
    return [
        payload["text"]
        for payload in session.scalars(
            select(Event.payload)
            .where(Event.conversation_id == conversation_id, Event.type == EventType.USER_MESSAGE.value)
            .order_by(Event.seq)
        )
    ]


class _Literal(str):
    """Written as a YAML block, like the examples in data/nlu/."""


yaml.SafeDumper.add_representer(
    _Literal, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
)


def export(out: Path, *, redactor: Redactor, session: Session) -> Exported:
    """Writes the review files (see review_files) into ``out``."""
    files, exported = review_files(redactor=redactor, session=session)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return exported


def review_files(*, redactor: Redactor, session: Session) -> tuple[dict[str, str], Exported]:
    """nlu_review.yml (wrong intents, as the intent they should have had, in data/nlu/'s format) and
    risk_review.yml (missed and needless handoffs, in data/safeguarding/risk/'s), by file name."""
    examples: dict[str, list[str]] = {}
    conversations: list[dict] = []
    for flag in session.scalars(select(ReviewFlag).order_by(ReviewFlag.id)):
        said = [redactor.redact(text) for text in _said(flag.conversation_id, session=session)][: flag.turn]
        if len(said) < flag.turn:
            continue
        if flag.kind == FlagKind.WRONG_INTENT.value and said[-1] not in examples.get(flag.right_intent, []):
            examples.setdefault(flag.right_intent, []).append(said[-1])
        elif flag.kind == FlagKind.MISSED_HANDOFF.value:
            conversations.append({"turns": said, "criteria": list(flag.criteria), "risk_at": flag.turn})
        elif flag.kind == FlagKind.NEEDLESS_HANDOFF.value:
            conversations.append({"turns": said})
    nlu = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": _Literal("".join(f"- {text}\n" for text in texts))}
            for intent, texts in sorted(examples.items())
        ],
    }
    header = "# Flagged by moderators and redacted; review before moving any of it into data/.\n"
    files = {
        NLU_FILE: header + yaml.safe_dump(nlu, sort_keys=False, allow_unicode=True),
        RISK_FILE: header + yaml.safe_dump({"conversations": conversations}, sort_keys=False, allow_unicode=True),
    }
    return files, Exported(
        nlu_examples=sum(len(texts) for texts in examples.values()), risk_examples=len(conversations)
    )
