"""The young person's own privacy choices: each flow runs in one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot import retention
from bot.content import Content
from bot.conversation import flows as conversation_flows
from bot.errors import ApiError
from bot.handoff import service as cases


def delete_chat(
    *, conversation_id: str, token: str | None, content: Content, tracker_url: str, session: Session
) -> None:
    """The young person deletes their chat, here and in Rasa's tracker store, unless it is
    part of an open safeguarding case."""
    conversation_flows.authorise(conversation_id, token, content=content, session=session)
    if cases.open_case_for(conversation_id, session=session) is not None:
        raise ApiError(409, "chat_in_case", content.error("chat_in_case"))
    retention.delete_conversations([conversation_id], by="young_person", tracker_url=tracker_url, session=session)
