"""Staff accounts and their server-side sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.database import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    STAFF = "staff"  # helpline workers: the live queue and the cases they hold
    # A worker who runs the shift: also watches any live case, reassigns cases and reads the
    # reports; no accounts, no moderation, no audit log.
    LEAD = "lead"
    MODERATOR = "moderator"  # review transcripts of ended conversations
    ADMIN = "admin"  # all of these, the audit log, and a live conversation opened for review with a reason


# Who may hold cases, and so counts as a worker on shift.
CASE_HOLDERS = frozenset({Role.STAFF.value, Role.LEAD.value, Role.ADMIN.value})


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    on_shift: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    # The SHA-256 of the cookie's token: a stolen database does not yield live sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
