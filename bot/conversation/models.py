"""A conversation and its events.

Every event in a conversation has a sequence number, allocated from the
conversation's ``last_seq`` counter in the same transaction that stores the
event, so a client that reconnects asks for what came after the last one it saw.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.database import Base, UTCDateTime, utcnow


class ConversationStatus(str, enum.Enum):
    BOT = "bot"
    WAITING_FOR_HUMAN = "waiting_for_human"
    WITH_HUMAN = "with_human"
    CLOSED = "closed"


class EventType(str, enum.Enum):
    USER_MESSAGE = "user_message"
    BOT_MESSAGE = "bot_message"
    HUMAN_MESSAGE = "human_message"
    STATUS = "status"


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), default=ConversationStatus.BOT.value)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The app instance answering this conversation's messages, until when (a lease). Messages are
    # claimed a conversation at a time, not one by one: they must be answered in order, and a claim on
    # one message would let another instance answer the next before it. A crashed instance's lease
    # runs out, and another instance's sweep takes the conversation over.
    dialogue_claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    dialogue_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    events: Mapped[list[Event]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True, order_by="Event.seq"
    )


class Event(Base):
    __tablename__ = "conversation_events"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "client_message_id"),
        Index("ix_conversation_events_awaiting_dialogue", "awaiting_dialogue"),
        Index("ix_conversation_events_missed_by_rasa", "missed_by_rasa"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_message_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # True for a young person's message that the dialogue has not handled yet; a
    # restarted app picks these up again, so an acknowledged message is never lost.
    awaiting_dialogue: Mapped[bool] = mapped_column(Boolean, default=False)
    # Failed attempts to handle this message; one that fails every time is set aside
    # (answered with the fail-safe reply, no longer awaiting) so it never blocks the chat.
    dialogue_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Stored while Rasa could not hear it: Rasa's tracker is told it later, so that a
    # disclosure split across an outage is read whole.
    missed_by_rasa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    conversation: Mapped[Conversation] = relationship(back_populates="events")

    def as_public_dict(self) -> dict[str, Any]:
        event = {"seq": self.seq, "type": self.type, "at": self.at.isoformat(), **self.payload}
        if self.client_message_id is not None:
            event["client_message_id"] = self.client_message_id
        return event


class ComebackCode(Base):
    """A short code the young person may choose to note, to open the same conversation
    again from a new page for a limited time: the chat otherwise lives only in the tab.
    Only its hash is kept; using it once, deleting the chat or asking to cancel it ends it."""

    __tablename__ = "comeback_codes"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
