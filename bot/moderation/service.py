"""What moderators can list: conversations without their words, until one is opened."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation.models import Conversation, Event, EventType
from bot.handoff.models import Case


def recent_conversations(*, session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Recent conversations with counts and case outcomes, and none of the young people's words."""
    message_counts = (
        select(Event.conversation_id, func.count().label("messages"))
        .where(Event.type == EventType.USER_MESSAGE.value)
        .group_by(Event.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Conversation, message_counts.c.messages)
        .outerjoin(message_counts, message_counts.c.conversation_id == Conversation.id)
        .order_by(Conversation.last_activity_at.desc())
        .limit(limit)
    ).all()
    cases: dict[str, list[Case]] = {}
    for case in session.scalars(select(Case).where(Case.conversation_id.in_([row[0].id for row in rows]))):
        cases.setdefault(case.conversation_id, []).append(case)
    return [
        {
            "conversation_id": conversation.id,
            "status": conversation.status,
            "started": conversation.created_at.isoformat(),
            "last_activity": conversation.last_activity_at.isoformat(),
            "messages": messages or 0,
            "cases": [
                {"level": case.level, "status": case.status, "criteria": case.criteria, "outcome": case.outcome}
                for case in cases.get(conversation.id, [])
            ],
        }
        for conversation, messages in rows
    ]
