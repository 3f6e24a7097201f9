"""Service functions for conversations: each takes the session as a keyword and does one thing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.conversation.models import (
    ComebackCode,
    Conversation,
    ConversationStatus,
    Event,
    EventType,
)
from bot.database import utcnow


class ConversationNotFound(Exception):
    pass


class NotAuthorised(Exception):
    pass


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(*, session: Session, bot_messages: Sequence[str] = ()) -> tuple[Conversation, str]:
    """A new conversation and the bearer token that alone can read or write it, opened with the bot's
    messages (seq 1, 2, ...). Stored in one flush rather than by append_event one at a time: nothing
    else can write to a conversation before its id is returned, so its seqs need no counter."""
    token = secrets.token_urlsafe(32)
    conversation = Conversation(id=secrets.token_hex(16), token_hash=_hash_token(token), last_seq=len(bot_messages))
    session.add(conversation)
    session.add_all(
        Event(conversation_id=conversation.id, seq=seq, type=EventType.BOT_MESSAGE.value, payload={"text": text})
        for seq, text in enumerate(bot_messages, start=1)
    )
    session.flush()
    return conversation, token


def get(conversation_id: str, *, session: Session) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def get_locked(conversation_id: str, *, session: Session) -> Conversation:
    """The conversation, locked until the transaction ends (SELECT ... FOR UPDATE; SQLite's writers
    are one at a time anyway): what depends on its state, such as opening a case, is decided by one
    transaction at a time, across every app instance."""
    conversation = session.get(Conversation, conversation_id, with_for_update=True, populate_existing=True)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def get_or_none(conversation_id: str, *, session: Session) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def authorise(conversation_id: str, token: str | None, *, session: Session) -> None:
    # The token's hash alone: every request of the teen API asks, and none needs the conversation loaded.
    token_hash = session.scalar(select(Conversation.token_hash).where(Conversation.id == conversation_id))
    if token_hash is None:
        raise ConversationNotFound(conversation_id)
    if not token or not hmac.compare_digest(token_hash, _hash_token(token)):
        raise NotAuthorised(conversation_id)


def append_event(
    conversation_id: str,
    event_type: EventType,
    payload: dict[str, Any],
    *,
    session: Session,
    client_message_id: str | None = None,
    awaiting_dialogue: bool = False,
) -> Event:
    """Store an event with the conversation's next sequence number."""
    event = Event(
        conversation_id=conversation_id,
        seq=_next_seqs(conversation_id, 1, session=session),
        type=event_type.value,
        payload=payload,
        client_message_id=client_message_id,
        awaiting_dialogue=awaiting_dialogue,
    )
    session.add(event)
    session.flush()
    return event


def append_events(
    conversation_id: str, events: Sequence[tuple[EventType, dict[str, Any]]], *, session: Session
) -> list[Event]:
    """Store events, in order, with the conversation's next sequence numbers, as append_event would one by
    one: with one update of the counter and one flush for them all (a turn's replies, a handoff's notices)."""
    if not events:
        return []
    first = _next_seqs(conversation_id, len(events), session=session)
    stored = [
        Event(conversation_id=conversation_id, seq=seq, type=event_type.value, payload=payload)
        for seq, (event_type, payload) in enumerate(events, start=first)
    ]
    session.add_all(stored)
    session.flush()
    return stored


def _next_seqs(conversation_id: str, count: int, *, session: Session) -> int:
    """Take the conversation's next `count` sequence numbers; the first of them."""
    last = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + count, last_activity_at=utcnow())
        .returning(Conversation.last_seq)
    ).scalar_one()
    return last - count + 1


def find_by_client_message_id(conversation_id: str, client_message_id: str, *, session: Session) -> Event | None:
    return session.scalars(
        select(Event).where(Event.conversation_id == conversation_id, Event.client_message_id == client_message_id)
    ).first()


def events_after(conversation_id: str, after: int, *, session: Session, limit: int = 500) -> Sequence[Event]:
    return session.scalars(
        select(Event)
        .where(Event.conversation_id == conversation_id, Event.seq > after)
        .order_by(Event.seq)
        .limit(limit)
    ).all()


def current_status(conversation_id: str, *, session: Session) -> str:
    status = session.scalar(select(Conversation.status).where(Conversation.id == conversation_id))
    if status is None:
        raise ConversationNotFound(conversation_id)
    return status


def user_messages_up_to(conversation_id: str, seq: int, *, session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.conversation_id == conversation_id,
                Event.type == EventType.USER_MESSAGE.value,
                Event.seq <= seq,
            )
        )
        or 0
    )


def public_events_after(conversation_id: str, after: int, *, session: Session) -> list[dict[str, Any]]:
    return [event.as_public_dict() for event in events_after(conversation_id, after, session=session)]


def offered_button_payloads(conversation_id: str, *, session: Session) -> set[str]:
    """The payloads of the buttons on the bot's latest message that had buttons."""
    payloads = session.scalars(
        select(Event.payload)
        .where(Event.conversation_id == conversation_id, Event.type == EventType.BOT_MESSAGE.value)
        .order_by(Event.seq.desc())
        .limit(10)
    )
    for payload in payloads:
        if payload.get("buttons"):
            return {button["payload"] for button in payload["buttons"]}
    return set()


def set_status(conversation_id: str, status: ConversationStatus, *, session: Session) -> Event | None:
    """Change the status; the change is itself an event, so clients see it in order."""
    conversation = get(conversation_id, session=session)
    if conversation.status == status.value:
        return None
    conversation.status = status.value
    return append_event(conversation_id, EventType.STATUS, {"status": status.value}, session=session)


def messages_awaiting_dialogue(conversation_id: str, *, session: Session) -> Sequence[Event]:
    return session.scalars(
        select(Event)
        .where(Event.conversation_id == conversation_id, Event.awaiting_dialogue.is_(True))
        .order_by(Event.seq)
    ).all()


def has_messages_awaiting_dialogue(conversation_id: str, *, session: Session) -> bool:
    return (
        session.scalar(
            select(Event.id).where(Event.conversation_id == conversation_id, Event.awaiting_dialogue.is_(True)).limit(1)
        )
        is not None
    )


def _claimable_by(worker: str) -> ColumnElement[bool]:
    """Nobody answers the conversation, this worker does, or another's lease has run out."""
    return or_(
        Conversation.dialogue_claimed_by.is_(None),
        Conversation.dialogue_claimed_by == worker,
        Conversation.dialogue_claimed_until < utcnow(),
    )


def conversations_awaiting_dialogue(
    *, worker: str, stored_before: datetime | None = None, session: Session
) -> Sequence[str]:
    """Conversations with a message not yet answered (stored before a moment, if given) that no
    other app instance is answering."""
    query = (
        select(Event.conversation_id)
        .join(Conversation, Conversation.id == Event.conversation_id)
        .where(Event.awaiting_dialogue.is_(True), _claimable_by(worker))
    )
    if stored_before is not None:
        query = query.where(Event.at < stored_before)
    return session.scalars(query.distinct()).all()


def claim_dialogue(conversation_id: str, *, worker: str, until: datetime, session: Session) -> bool:
    """Claim answering the conversation's messages until a moment (or extend this worker's claim);
    False when another app instance holds a live claim, or the conversation is gone."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, _claimable_by(worker))
        .values(dialogue_claimed_by=worker, dialogue_claimed_until=until)
    )
    return result.rowcount == 1


def claim_awaiting_dialogue(
    conversation_id: str, *, worker: str, until: datetime, session: Session
) -> Sequence[Event] | None:
    """Claim the conversation (claim_dialogue) and, in the same transaction, its messages awaiting the
    dialogue, oldest first; None when another app instance holds a live claim, or the conversation is gone."""
    if not claim_dialogue(conversation_id, worker=worker, until=until, session=session):
        return None
    return messages_awaiting_dialogue(conversation_id, session=session)


def release_dialogue_claim(conversation_id: str, *, worker: str, session: Session) -> None:
    """Give up this worker's claim on the conversation (the caller then looks for messages stored meanwhile)."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.dialogue_claimed_by == worker)
        .values(dialogue_claimed_by=None, dialogue_claimed_until=None)
    )


def release_all_dialogue_claims(*, worker: str, session: Session) -> None:
    """An instance stopping gives up its claims, so that others take its conversations at their next sweep
    rather than when the leases run out."""
    session.execute(
        update(Conversation)
        .where(Conversation.dialogue_claimed_by == worker)
        .values(dialogue_claimed_by=None, dialogue_claimed_until=None)
    )


def mark_handled(event_id: int, *, session: Session) -> bool:
    """False when the message was already handled (by another attempt or app instance), so its
    reply is not stored twice."""
    result = session.execute(
        update(Event).where(Event.id == event_id, Event.awaiting_dialogue.is_(True)).values(awaiting_dialogue=False)
    )
    return result.rowcount == 1


def count_dialogue_failure(event_id: int, *, session: Session) -> int:
    """One more failed attempt to handle a message; returns how many there have been."""
    return session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(dialogue_failures=Event.dialogue_failures + 1)
        .returning(Event.dialogue_failures)
    ).scalar_one()


def count_set_aside(*, session: Session) -> int:
    """Messages that failed every attempt and were answered with the fail-safe reply instead."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.dialogue_failures > 0, Event.awaiting_dialogue.is_(False))
        )
        or 0
    )


def mark_missed_by_rasa(event_id: int, *, session: Session) -> None:
    session.execute(update(Event).where(Event.id == event_id).values(missed_by_rasa=True))


def messages_missed_by_rasa(conversation_id: str, *, session: Session) -> list[tuple[int, int, str]]:
    """(event id, seq, text) of the messages Rasa's tracker has not been told yet, oldest first."""
    rows = session.execute(
        select(Event.id, Event.seq, Event.payload)
        .where(Event.conversation_id == conversation_id, Event.missed_by_rasa.is_(True))
        .order_by(Event.seq)
    ).all()
    return [(event_id, seq, payload["text"]) for event_id, seq, payload in rows]


def mark_heard_by_rasa(event_ids: Sequence[int], *, session: Session) -> None:
    session.execute(update(Event).where(Event.id.in_(event_ids)).values(missed_by_rasa=False))


def user_texts(conversation_id: str, *, session: Session) -> list[str]:
    """The young person's messages so far, oldest first."""
    payloads = session.scalars(
        select(Event.payload)
        .where(Event.conversation_id == conversation_id, Event.type == EventType.USER_MESSAGE.value)
        .order_by(Event.seq)
    )
    return [payload["text"] for payload in payloads]


# Come-back codes: no letters or digits that look alike (0/O, 1/I/L), none that spell much (U, vowels kept
# few); 10 of 30 symbols is about 49 bits, shown as two groups of five.
COMEBACK_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
COMEBACK_LENGTH = 10


def _normalise_code(code: str) -> str:
    return "".join(symbol for symbol in code.upper() if symbol.isalnum())


def issue_comeback_code(conversation_id: str, valid_for: timedelta, *, session: Session) -> tuple[str, datetime]:
    """A new come-back code for the conversation; any earlier one stops working."""
    revoke_comeback_code(conversation_id, session=session)
    symbols = "".join(secrets.choice(COMEBACK_ALPHABET) for _ in range(COMEBACK_LENGTH))
    expires_at = utcnow() + valid_for
    session.add(ComebackCode(conversation_id=conversation_id, code_hash=_hash_token(symbols), expires_at=expires_at))
    session.flush()
    return f"{symbols[:5]}-{symbols[5:]}", expires_at


def revoke_comeback_code(conversation_id: str, *, session: Session) -> bool:
    """Cancel the conversation's come-back code; True if it had one."""
    cancelled = session.execute(delete(ComebackCode).where(ComebackCode.conversation_id == conversation_id))
    return cancelled.rowcount > 0


def redeem_comeback_code(code: str, *, session: Session) -> tuple[str, str] | None:
    """The conversation a live code opens, with a new token (the old one stops working); the code is used up."""
    found = session.scalars(
        select(ComebackCode).where(
            ComebackCode.code_hash == _hash_token(_normalise_code(code)), ComebackCode.expires_at > utcnow()
        )
    ).first()
    if found is None:
        return None
    conversation = get(found.conversation_id, session=session)
    session.delete(found)
    token = secrets.token_urlsafe(32)
    conversation.token_hash = _hash_token(token)
    return conversation.id, token


def existing(conversation_ids: Sequence[str], *, session: Session) -> set[str]:
    """Which of these conversations the app still has."""
    return set(session.scalars(select(Conversation.id).where(Conversation.id.in_(conversation_ids))))


def delete_all(conversation_ids: Sequence[str], *, session: Session) -> None:
    """Delete the conversations and, by cascade, their events."""
    session.execute(delete(Conversation).where(Conversation.id.in_(conversation_ids)))
