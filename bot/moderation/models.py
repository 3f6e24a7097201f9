"""A moderator's flag on one turn of an ended conversation: what went wrong, to improve the bot."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.database import Base, UTCDateTime, utcnow


class FlagKind(str, enum.Enum):
    WRONG_INTENT = "wrong_intent"  # with the intent it should have been
    UNSAFE_REPLY = "unsafe_reply"
    MISSED_HANDOFF = "missed_handoff"  # with the criteria that applied: the worst failure, counted first
    NEEDLESS_HANDOFF = "needless_handoff"


class ReviewFlag(Base):
    __tablename__ = "review_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Flags go with their conversation when it is deleted: export corrections within the retention period.
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # The young person's message it is about: 1 for their first.
    turn: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    right_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
