"""One row each time a member of staff opens a transcript."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.database import Base, UTCDateTime, utcnow


class TranscriptView(Base):
    __tablename__ = "transcript_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="RESTRICT"), index=True)
    # No foreign key: the record of who looked must outlive a deleted conversation.
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "case" or "moderation"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
