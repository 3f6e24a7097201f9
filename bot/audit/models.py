"""One row per audited action. Rows are only ever added: the app has no path to change
or remove them, and a database trigger refuses UPDATE and DELETE (migration 0003)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.database import Base, UTCDateTime, utcnow


class AuditAction(str, enum.Enum):
    TRANSCRIPT_READ = "transcript_read"
    EXPORT = "export"
    CONVERSATION_DELETED = "conversation_deleted"
    ACCOUNT_CREATED = "account_created"
    ROLE_CHANGED = "role_changed"
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    CASE_CLAIMED = "case_claimed"
    CASE_RELEASED = "case_released"
    CASE_CLOSED = "case_closed"
    CASE_REASSIGNED = "case_reassigned"


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    # The member of staff who acted; none for the young person, the retention purge and the command line.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # No foreign keys: the record must outlive the conversation and the case.
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Structured facts only (purpose, reason given by an admin, role, from which seq), never message text.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
