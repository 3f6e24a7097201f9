"""The young person's own privacy choices: each flow runs in one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot import retention
from bot.content import Content
from bot.conversation import flows as conversation_flows
from bot.conversation import service as conversations
from bot.errors import ApiError
from bot.handoff import service as cases


def delete_chat(
    *, conversation_id: str, token: str | None, content: Content, tracker_url: str, session: Session
) -> ApiError | None:
    """The young person deletes their chat, here and in Rasa's tracker store, unless it is
    part of an open safeguarding case: then the chat is kept and the refusal returned (not
    raised, so that this transaction still commits the one thing that is done either way:
    its come-back code is cancelled, and nobody can open the chat with it)."""
    conversation_flows.authorise(conversation_id, token, content=content, session=session)
    code_cancelled = conversations.revoke_comeback_code(conversation_id, session=session)
    if cases.open_case_for(conversation_id, session=session) is not None:
        words = "chat_in_case_code_cancelled" if code_cancelled else "chat_in_case"
        return ApiError(409, "chat_in_case", content.error(words))
    retention.delete_conversations([conversation_id], by="young_person", tracker_url=tracker_url, session=session)
    return None
