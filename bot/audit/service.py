"""Adding to the audit log and reading it. There is deliberately no function that changes or removes a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit.models import AuditAction, AuditEvent


def record(
    action: AuditAction,
    *,
    session: Session,
    actor_id: int | None = None,
    conversation_id: str | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            action=action.value,
            actor_id=actor_id,
            conversation_id=conversation_id,
            case_id=case_id,
            detail=detail or {},
        )
    )


class AuditedCase(Protocol):
    """What the audit log keeps of a helpline case (bot.handoff.models.Case), without importing it."""

    id: int
    conversation_id: str | None


def record_case(
    action: AuditAction,
    case: AuditedCase,
    *,
    actor_id: int,
    session: Session,
    detail: dict[str, Any] | None = None,
) -> None:
    """A worker's or lead's action on a case, filed under the case and its conversation."""
    record(
        action,
        actor_id=actor_id,
        conversation_id=case.conversation_id,
        case_id=case.id,
        detail=detail,
        session=session,
    )


def recent(*, session: Session, limit: int = 500) -> Sequence[AuditEvent]:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()


def for_conversation(conversation_id: str, *, session: Session) -> Sequence[AuditEvent]:
    return session.scalars(
        select(AuditEvent).where(AuditEvent.conversation_id == conversation_id).order_by(AuditEvent.id)
    ).all()
