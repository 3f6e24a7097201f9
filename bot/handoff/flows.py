"""Handing a conversation to the helpline and back: each flow runs in one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.content import Content
from bot.conversation import service as conversations
from bot.conversation.models import ConversationStatus, EventType
from bot.handoff import service
from bot.handoff.models import Case, CaseStatus
from bot.staff import service as staff
from safeguarding.assessment import Decision
from safeguarding.vocabulary import Level

QUEUE_CHANNEL = "helpline-queue"
# Pushed on the queue channel when more cases open than BOT_LIMIT_NEW_CASES allows: a possible flood.
CASE_FLOOD_ALERT = "case_flood"


class CaseNotAvailable(Exception):
    """Someone else holds the case, it is closed, or it does not exist."""


def _say(conversation_id: str, texts: list[str], *, session: Session) -> None:
    for text in texts:
        conversations.append_event(conversation_id, EventType.BOT_MESSAGE, {"text": text}, session=session)


def escalate(conversation_id: str, decision: Decision, *, detected_by: str, content: Content, session: Session) -> None:
    """Open a case for the conversation, or raise the open one, and tell the young person."""
    level = Level(decision.level or Level.HIGH)
    evidence = [item.to_dict() for item in decision.evidence]
    case = service.open_case_for(conversation_id, session=session)
    if case is not None:
        service.raise_level(case, level, decision.criteria, evidence)
        return
    conversation = conversations.get(conversation_id, session=session)
    case = service.create(
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
    _say(
        conversation_id,
        content.messages("handoff_started_critical" if level is Level.CRITICAL else "handoff_started"),
        session=session,
    )
    _say(conversation_id, waiting_messages(case, content, session=session), session=session)


def waiting_messages(case: Case, content: Content, *, session: Session) -> list[str]:
    """An honest word on the wait: nobody on shift, a typical wait, or that it cannot be said."""
    if staff.staff_on_shift(session=session) == 0:
        return content.messages("handoff_nobody_on_shift")
    position = service.queue_position(case, session=session) + 1
    wait = service.typical_wait(session=session)
    if wait is None:
        return content.messages("handoff_wait_unknown", position=position)
    minutes = max(1, round(wait.total_seconds() / 60))
    return content.messages("handoff_wait_estimate", position=position, minutes=minutes)


def claim(case_id: int, user_id: int, *, content: Content, session: Session) -> Case:
    if not service.claim(case_id, user_id, session=session):
        raise CaseNotAvailable(case_id)
    case = service.get(case_id, session=session)
    session.refresh(case)
    audit.record_case(AuditAction.CASE_CLAIMED, case, actor_id=user_id, session=session)
    conversations.set_status(case.conversation_id, ConversationStatus.WITH_HUMAN, session=session)
    _say(case.conversation_id, content.messages("worker_joined"), session=session)
    return case


def claim_next(user_id: int, *, content: Content, session: Session) -> Case:
    """Take the most urgent waiting case: the first of the queue that nobody else takes first."""
    for waiting in service.queue(session=session):
        try:
            return claim(waiting.id, user_id, content=content, session=session)
        except CaseNotAvailable:
            continue
    raise CaseNotAvailable(None)


def reassign(case_id: int, to_user_id: int, *, by_user_id: int, content: Content, session: Session) -> Case:
    """A lead gives an open case to a worker; the audit log keeps who held it before."""
    case = service.get(case_id, session=session)
    if case is None or case.status not in service.OPEN_STATUSES:
        raise CaseNotAvailable(case_id)
    previous = case.claimed_by_id
    audit.record_case(
        AuditAction.CASE_REASSIGNED,
        case,
        actor_id=by_user_id,
        detail={"from": previous, "to": to_user_id},
        session=session,
    )
    if case.status == CaseStatus.QUEUED.value:
        return claim(case_id, to_user_id, content=content, session=session)
    service.hand_to(case, to_user_id)
    return case


def open_case(case_id: int, *, session: Session) -> Case:
    """Any open case, for a lead watching it."""
    case = service.get(case_id, session=session)
    if case is None or case.status not in service.OPEN_STATUSES:
        raise CaseNotAvailable(case_id)
    return case


def held_case(case_id: int, user_id: int, *, session: Session) -> Case:
    """A case the worker holds; nobody sees a case they do not hold."""
    case = service.get(case_id, session=session)
    if case is None or case.status != CaseStatus.CLAIMED.value or case.claimed_by_id != user_id:
        raise CaseNotAvailable(case_id)
    return case


def send_worker_message(case_id: int, user_id: int, text: str, *, session: Session) -> Case:
    case = held_case(case_id, user_id, session=session)
    conversations.append_event(case.conversation_id, EventType.HUMAN_MESSAGE, {"text": text}, session=session)
    return case


def release(case_id: int, user_id: int, *, content: Content, session: Session) -> Case:
    case = held_case(case_id, user_id, session=session)
    # The case forgets its holder; the audit log keeps who held it.
    audit.record_case(AuditAction.CASE_RELEASED, case, actor_id=user_id, session=session)
    service.release(case)
    conversations.set_status(case.conversation_id, ConversationStatus.WAITING_FOR_HUMAN, session=session)
    _say(case.conversation_id, content.messages("worker_released"), session=session)
    return case


def close(case_id: int, user_id: int, *, outcome: str, note: str | None, content: Content, session: Session) -> Case:
    """End the case; the bot takes the conversation back."""
    case = held_case(case_id, user_id, session=session)
    conversation = conversations.get(case.conversation_id, session=session)
    _say(case.conversation_id, content.messages("worker_left"), session=session)
    conversations.set_status(case.conversation_id, ConversationStatus.BOT, session=session)
    service.close(case, outcome=outcome, note=note, closed_at_seq=conversation.last_seq)
    audit.record_case(AuditAction.CASE_CLOSED, case, actor_id=user_id, detail={"outcome": outcome}, session=session)
    return case


def turns_covered_by_closed_cases(conversation_id: str, *, session: Session) -> int:
    """How many of the young person's messages an earlier, now closed, case already dealt with."""
    case = service.last_closed_case(conversation_id, session=session)
    if case is None or case.closed_at_seq is None:
        return 0
    return conversations.user_messages_up_to(conversation_id, case.closed_at_seq, session=session)
