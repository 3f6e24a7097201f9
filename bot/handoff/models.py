"""A helpline case: one handoff of a conversation to a human worker."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.database import Base, UTCDateTime, utcnow
from safeguarding.vocabulary import Level

# Queue order of a case's level (safeguarding.vocabulary.Level): lower comes first.
QUEUE_RANK = {Level.CRITICAL: 0, Level.HIGH: 1, Level.OFFERED: 2}


class CaseStatus(str, enum.Enum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    CLOSED = "closed"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_queue", "status", "level_rank", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None once the conversation is deleted: the outcome is kept for statistics, without words
    # (BOT_OUTCOME_RETENTION_DAYS), after its transcript has gone (bot/retention.py).
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    level: Mapped[str] = mapped_column(String(16))
    level_rank: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.QUEUED.value)
    # Which SAFEGUARDING.md criteria applied and the cues quoted from the
    # young person's own messages, so the worker sees at once why they are here.
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    cues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    detected_by: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(16), default="unknown")
    nation: Mapped[str] = mapped_column(String(32), default="unknown")
    # Sequence numbers in the conversation when the case opened and closed: the
    # risk assessment after a closed case looks only for what is new since.
    opened_at_seq: Mapped[int] = mapped_column(Integer)
    closed_at_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
