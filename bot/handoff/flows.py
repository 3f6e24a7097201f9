"""Handing a conversation to the helpline: opening and raising cases as the risk decision says."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.content import Content
from bot.conversation import service as conversations
from bot.conversation.models import ConversationStatus, EventType
from bot.handoff import service
from bot.handoff.models import CaseLevel
from safeguarding.assessment import Decision

QUEUE_CHANNEL = "helpline-queue"


def escalate(conversation_id: str, decision: Decision, *, detected_by: str, content: Content, session: Session) -> None:
    """Open a case for the conversation, or raise the open one, and tell the young person."""
    level = CaseLevel(decision.level or CaseLevel.HIGH.value)
    evidence = [item.to_dict() for item in decision.evidence]
    case = service.open_case_for(conversation_id, session=session)
    if case is not None:
        service.raise_level(case, level, decision.criteria, evidence)
        return
    conversation = conversations.get(conversation_id, session=session)
    service.create(
        conversation_id,
        level=level,
        criteria=decision.criteria,
        evidence=evidence,
        detected_by=detected_by,
        age_band=decision.age_band,
        nation=decision.nation,
        opened_at_seq=conversation.last_seq,
        session=session,
    )
    conversations.set_status(conversation_id, ConversationStatus.WAITING_FOR_HUMAN, session=session)
    notice = "handoff_started_critical" if level is CaseLevel.CRITICAL else "handoff_started"
    for text in content.messages(notice):
        conversations.append_event(conversation_id, EventType.BOT_MESSAGE, {"text": text}, session=session)


def turns_covered_by_closed_cases(conversation_id: str, *, session: Session) -> int:
    """How many of the young person's messages an earlier, now closed, case already dealt with."""
    case = service.last_closed_case(conversation_id, session=session)
    if case is None or case.closed_at_seq is None:
        return 0
    return conversations.user_messages_up_to(conversation_id, case.closed_at_seq, session=session)
