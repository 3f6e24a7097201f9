"""Conversation flows behind the teen API: each runs in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.content import Content
from bot.conversation import service
from bot.conversation.models import EventType
from bot.errors import ApiError

_IMAGE_DATA_PREFIXES = ("data:image/", "data:video/", "data:application/", "data:;base64")


def start(*, content: Content, session: Session) -> tuple[str, str]:
    """A new conversation, opened with the welcome that says this is a bot."""
    conversation, token = service.create(session=session, bot_messages=content.messages("welcome"))
    return conversation.id, token


def validate_text(text: str, limit: int, content: Content) -> str:
    stripped = text.strip()
    if not stripped:
        raise ApiError(422, "empty_message", content.error("empty_message"))
    if len(stripped) > limit:
        raise ApiError(422, "message_too_long", content.error("message_too_long", limit=limit))
    if stripped.lower().startswith(_IMAGE_DATA_PREFIXES):
        raise ApiError(422, "no_images", content.error("no_images"))
    return stripped


def authorise(conversation_id: str, token: str | None, *, content: Content, session: Session) -> None:
    if not token:
        service.get_or_none(conversation_id, session=session) or _not_found(content)
        raise ApiError(401, "missing_token", content.error("missing_token"))
    try:
        service.authorise(conversation_id, token, session=session)
    except service.ConversationNotFound:
        _not_found(content)
    except service.NotAuthorised:
        raise ApiError(403, "wrong_token", content.error("wrong_token")) from None


def _not_found(content: Content):
    raise ApiError(404, "not_found", content.error("not_found"))


def receive_message(
    *,
    conversation_id: str,
    token: str | None,
    client_message_id: str,
    text: str,
    payload: str | None,
    content: Content,
    session: Session,
) -> tuple[int, bool]:
    """Store a young person's message before acknowledging it; a repeat returns the original seq."""
    authorise(conversation_id, token, content=content, session=session)
    existing = service.find_by_client_message_id(conversation_id, client_message_id, session=session)
    if existing is not None:
        return existing.seq, False
    if payload is not None and payload not in service.offered_button_payloads(conversation_id, session=session):
        raise ApiError(422, "unknown_button", content.error("unknown_button"))
    message = {"text": text, **({"payload": payload} if payload is not None else {})}
    try:
        with session.begin_nested():
            event = service.append_event(
                conversation_id,
                EventType.USER_MESSAGE,
                message,
                session=session,
                client_message_id=client_message_id,
                awaiting_dialogue=True,
            )
    except IntegrityError:
        # The same client_message_id arrived twice at once and the other request stored it.
        existing = service.find_by_client_message_id(conversation_id, client_message_id, session=session)
        if existing is None:
            raise
        return existing.seq, False
    return event.seq, True


def authorised_events(
    *, conversation_id: str, token: str | None, after: int, content: Content, session: Session
) -> list[dict[str, Any]]:
    authorise(conversation_id, token, content=content, session=session)
    return service.public_events_after(conversation_id, after, session=session)


def create_comeback_code(
    *, conversation_id: str, token: str | None, hours: int, content: Content, session: Session
) -> dict[str, Any]:
    """A come-back code the young person may choose to note, and plain words on what it is."""
    authorise(conversation_id, token, content=content, session=session)
    code, expires_at = service.issue_comeback_code(conversation_id, timedelta(hours=hours), session=session)
    return {
        "code": code,
        "expires_at": expires_at.isoformat(),
        "messages": content.messages("comeback_code", code=code, hours=hours),
    }


def cancel_comeback_code(*, conversation_id: str, token: str | None, content: Content, session: Session) -> None:
    authorise(conversation_id, token, content=content, session=session)
    service.revoke_comeback_code(conversation_id, session=session)


def come_back(*, code: str, session: Session) -> tuple[str, str] | None:
    """The conversation and a new token for a live code; None when the code does not work."""
    return service.redeem_comeback_code(code, session=session)
