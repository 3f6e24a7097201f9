"""What moderators can list and read: ended conversations, without their words until one is opened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation.models import Conversation, Event, EventType
from bot.handoff.models import Case, CaseStatus
from bot.moderation.redaction import Redactor

# The young person's and the worker's words are redacted; the bot's are the project's own content.
REDACTED_TYPES = {EventType.USER_MESSAGE.value, EventType.HUMAN_MESSAGE.value}


def _has_open_case():
    return (
        select(Case.id).where(Case.conversation_id == Conversation.id, Case.status != CaseStatus.CLOSED.value).exists()
    )


def is_ended(conversation_id: str, *, quiet_since: datetime, session: Session) -> bool:
    """Ended: no open case, and no message since ``quiet_since``."""
    return (
        session.scalar(
            select(Conversation.id).where(
                Conversation.id == conversation_id,
                Conversation.last_activity_at < quiet_since,
                ~_has_open_case(),
            )
        )
        is not None
    )


def recent_conversations(
    *, quiet_since: datetime, include_live: bool, session: Session, limit: int = 100
) -> list[dict[str, Any]]:
    """Recent conversations with counts and case outcomes, and none of the young people's words.
    Moderators get ended conversations only; an admin (``include_live``) gets every one, marked."""
    message_counts = (
        select(Event.conversation_id, func.count().label("messages"))
        .where(Event.type == EventType.USER_MESSAGE.value)
        .group_by(Event.conversation_id)
        .subquery()
    )
    ended = (Conversation.last_activity_at < quiet_since) & ~_has_open_case()
    query = (
        select(Conversation, message_counts.c.messages, ended.label("ended"))
        .outerjoin(message_counts, message_counts.c.conversation_id == Conversation.id)
        .order_by(Conversation.last_activity_at.desc())
        .limit(limit)
    )
    if not include_live:
        query = query.where(ended)
    rows = session.execute(query).all()
    cases: dict[str, list[Case]] = {}
    for case in session.scalars(select(Case).where(Case.conversation_id.in_([row[0].id for row in rows]))):
        cases.setdefault(case.conversation_id, []).append(case)
    return [
        {
            "conversation_id": conversation.id,
            "ended": bool(is_over),
            "started": conversation.created_at.isoformat(),
            "last_activity": conversation.last_activity_at.isoformat(),
            "messages": messages or 0,
            "cases": [
                {"level": case.level, "status": case.status, "criteria": case.criteria, "outcome": case.outcome}
                for case in cases.get(conversation.id, [])
            ],
        }
        for conversation, messages, is_over in rows
    ]


def redacted(events: list[dict[str, Any]], redactor: Redactor) -> list[dict[str, Any]]:
    """The transcript as a moderator reads it: names, numbers, places and accounts hidden."""
    return [
        {**event, "text": redactor.redact(event["text"])} if event["type"] in REDACTED_TYPES else event
        for event in events
    ]
