"""Handing a conversation to the helpline and back: each flow runs in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
# Waits that may outlast the page (the chat lives only in the tab): a come-back code is offered with them.
UNCERTAIN_WAITS = frozenset({"handoff_nobody_on_shift", "handoff_wait_unknown"})
# Marks the bot message under which the widget offers the come-back code (README, the teen API).
COMEBACK_OFFER = "comeback_code"
# A long queue is paged, so the console stays usable with hundreds waiting.
QUEUE_PAGE_SIZE = 50
# Pushed on the queue channel when more cases open than BOT_LIMIT_NEW_CASES allows: a possible flood.
CASE_FLOOD_ALERT = "case_flood"


class CaseNotAvailable(Exception):
    """Someone else holds the case, it is closed, or it does not exist."""


@dataclass(frozen=True)
class ConsoleState:
    """What one worker's console shows: a page of the queue, its health, and the cases they hold."""

    queue: Sequence[Case]
    page: int
    pages: int
    health: dict[str, Any]
    held: Sequence[Case]
    on_shift: bool
    workers_on_shift: int
    # Only for whoever leads the shift: every case a worker holds, with the holder's name.
    in_hand: Sequence[tuple[Case, str]] | None = None


def console_state(user_id: int, *, leads_shift: bool, page: int = 0, session: Session) -> ConsoleState:
    health = service.queue_health(session=session)
    pages = max(1, -(-health["total_waiting"] // QUEUE_PAGE_SIZE))
    page = min(page, pages - 1)
    return ConsoleState(
        queue=service.queue_page(offset=page * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE, session=session),
        page=page,
        pages=pages,
        health=health,
        held=service.held_by(user_id, session=session),
        on_shift=session.get(staff.StaffUser, user_id).on_shift,
        workers_on_shift=staff.staff_on_shift(session=session),
        in_hand=service.in_hand(session=session) if leads_shift else None,
    )


def set_on_shift(user_id: int, on_shift: bool, *, leads_shift: bool, session: Session) -> ConsoleState:
    """The worker goes on or off shift; their console as it then is."""
    staff.set_on_shift(session.get(staff.StaffUser, user_id), on_shift, session=session)
    return console_state(user_id, leads_shift=leads_shift, session=session)


def _say(conversation_id: str, texts: list[str], *, session: Session) -> None:
    conversations.append_events(conversation_id, _bot_messages(texts), session=session)


def _bot_messages(texts: list[str]) -> list[tuple[EventType, dict[str, Any]]]:
    return [(EventType.BOT_MESSAGE, {"text": text}) for text in texts]


def escalate(conversation_id: str, decision: Decision, *, detected_by: str, content: Content, session: Session) -> bool:
    """Open a case for the conversation, or raise the open one, and tell the young person.
    True when a case was opened."""
    level = Level(decision.level or Level.HIGH)
    evidence = [item.to_dict() for item in decision.evidence]
    # Locked first: two app instances handing the same conversation over at once would otherwise
    # both find no open case and open one each.
    conversation = conversations.get_locked(conversation_id, session=session)
    case = service.open_case_for(conversation_id, session=session)
    if case is not None:
        service.raise_level(case, level, decision.criteria, evidence)
        return False
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
    notice, values = waiting_notice(case, session=session)
    # What the young person is told, stored at once, in this order.
    told = _bot_messages(content.messages("handoff_started_critical" if level is Level.CRITICAL else "handoff_started"))
    told += _bot_messages(content.messages(notice, **values))
    if notice in UNCERTAIN_WAITS:
        told += _comeback_offer(content)
    conversations.append_events(conversation_id, told, session=session)
    return True


def waiting_notice(case: Case, *, session: Session) -> tuple[str, dict[str, int]]:
    """The honest word on the wait that fits, and what fills it in: nobody on shift, a typical
    wait, or that it cannot be said."""
    if staff.staff_on_shift(session=session) == 0:
        return "handoff_nobody_on_shift", {}
    position = service.queue_position(case, session=session) + 1
    wait = service.typical_wait(session=session)
    if wait is None:
        return "handoff_wait_unknown", {"position": position}
    minutes = max(1, round(wait.total_seconds() / 60))
    return "handoff_wait_estimate", {"position": position, "minutes": minutes}


def _comeback_offer(content: Content) -> list[tuple[EventType, dict[str, Any]]]:
    """Words on what a come-back code is; the widget shows the button to get one under the last of them.
    The code itself is made only if the young person asks, and never goes into the chat."""
    *before, last = content.messages("comeback_offer")
    return [*_bot_messages(before), (EventType.BOT_MESSAGE, {"text": last, "offer": COMEBACK_OFFER})]


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


def _audited_events(case: Case, *, purpose: str, after: int, reader_id: int, session: Session) -> list[dict[str, Any]]:
    """The case's conversation after `after`; every read is audited, whatever `after` is."""
    audit.record_case(
        AuditAction.TRANSCRIPT_READ,
        case,
        actor_id=reader_id,
        detail={"purpose": purpose, "after": after},
        session=session,
    )
    return conversations.public_events_after(case.conversation_id, after, session=session)


def read_held_case(case_id: int, user_id: int, *, after: int, session: Session) -> list[dict[str, Any]]:
    """The conversation of a case the worker holds, after `after`."""
    case = held_case(case_id, user_id, session=session)
    return _audited_events(case, purpose="case", after=after, reader_id=user_id, session=session)


def watch_open_case(case_id: int, lead_id: int, *, after: int, session: Session) -> list[dict[str, Any]]:
    """The conversation of any open case, after `after`, for a lead watching it."""
    case = open_case(case_id, session=session)
    return _audited_events(case, purpose="watch", after=after, reader_id=lead_id, session=session)


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
