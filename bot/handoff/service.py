"""Service functions for helpline cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from statistics import median

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.conversation.models import Conversation
from bot.database import utcnow
from bot.handoff.models import QUEUE_RANK, Case, CaseStatus
from bot.staff.models import StaffUser
from safeguarding.vocabulary import Level

OPEN_STATUSES = (CaseStatus.QUEUED.value, CaseStatus.CLAIMED.value)


def open_case_for(conversation_id: str, *, session: Session) -> Case | None:
    return session.scalars(
        select(Case).where(Case.conversation_id == conversation_id, Case.status.in_(OPEN_STATUSES))
    ).first()


def idle_conversations_without_open_case(cutoff: datetime, *, session: Session) -> list[str]:
    """Conversations idle since before the cutoff that no open safeguarding case keeps."""
    open_cases = select(Case.conversation_id).where(Case.status != CaseStatus.CLOSED.value)
    return list(
        session.scalars(
            select(Conversation.id).where(Conversation.last_activity_at < cutoff, Conversation.id.not_in(open_cases))
        )
    )


def create(
    conversation_id: str,
    *,
    level: Level,
    criteria: Sequence[str],
    evidence: Sequence[dict],
    detected_by: str,
    age_band: str,
    nation: str | None,
    opened_at_seq: int,
    session: Session,
) -> Case:
    case = Case(
        conversation_id=conversation_id,
        level=level.value,
        level_rank=QUEUE_RANK[level],
        criteria=list(criteria),
        cues=list(evidence),
        detected_by=detected_by,
        age_band=age_band,
        nation=nation or "unknown",
        opened_at_seq=opened_at_seq,
    )
    session.add(case)
    session.flush()
    return case


def raise_level(case: Case, level: Level, criteria: Sequence[str], evidence: Sequence[dict]) -> bool:
    """Move an open case up the queue when something more serious comes out; never down."""
    changed = False
    if QUEUE_RANK[level] < case.level_rank:
        case.level, case.level_rank = level.value, QUEUE_RANK[level]
        changed = True
    new_criteria = [criterion for criterion in criteria if criterion not in case.criteria]
    if new_criteria:
        case.criteria = [*case.criteria, *new_criteria]
        changed = True
    new_evidence = [item for item in evidence if item not in case.cues]
    if new_evidence:
        case.cues = [*case.cues, *new_evidence]
        changed = True
    return changed


def last_closed_case(conversation_id: str, *, session: Session) -> Case | None:
    return session.scalars(
        select(Case)
        .where(Case.conversation_id == conversation_id, Case.status == CaseStatus.CLOSED.value)
        .order_by(Case.closed_at.desc())
    ).first()


def get(case_id: int, *, session: Session) -> Case | None:
    return session.get(Case, case_id)


def queue(*, session: Session) -> Sequence[Case]:
    """Waiting cases, most serious first, then longest waiting."""
    return session.scalars(
        select(Case).where(Case.status == CaseStatus.QUEUED.value).order_by(Case.level_rank, Case.created_at)
    ).all()


def queue_page(*, offset: int, limit: int, session: Session) -> Sequence[Case]:
    return session.scalars(
        select(Case)
        .where(Case.status == CaseStatus.QUEUED.value)
        .order_by(Case.level_rank, Case.created_at)
        .offset(offset)
        .limit(limit)
    ).all()


def queue_health(*, session: Session) -> dict:
    """For the top of the console: how many wait at each level, the longest wait, and how many
    cases each worker on shift (or holding one) has."""
    waiting = dict(
        session.execute(
            select(Case.level, func.count()).where(Case.status == CaseStatus.QUEUED.value).group_by(Case.level)
        ).all()
    )
    oldest = session.scalar(select(func.min(Case.created_at)).where(Case.status == CaseStatus.QUEUED.value))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)  # SQLite's min() bypasses the column's type
    held = dict(
        session.execute(
            select(Case.claimed_by_id, func.count())
            .where(Case.status == CaseStatus.CLAIMED.value)
            .group_by(Case.claimed_by_id)
        ).all()
    )
    workers = session.execute(
        select(StaffUser.id, StaffUser.username)
        .where(or_(StaffUser.on_shift.is_(True), StaffUser.id.in_(list(held))))
        .order_by(StaffUser.username)
    ).all()
    return {
        "waiting": {level.value: waiting.get(level.value, 0) for level in Level},
        "total_waiting": sum(waiting.values()),
        "longest_wait_seconds": int((utcnow() - oldest).total_seconds()) if oldest else 0,
        "cases_per_worker": [{"worker": name, "cases": held.get(user_id, 0)} for user_id, name in workers],
    }


def in_hand(*, session: Session) -> Sequence[tuple[Case, str]]:
    """Every case a worker holds, most urgent first, with the worker's username: what a shift lead
    watches and reassigns."""
    return session.execute(
        select(Case, StaffUser.username)
        .join(StaffUser, StaffUser.id == Case.claimed_by_id)
        .where(Case.status == CaseStatus.CLAIMED.value)
        .order_by(Case.level_rank, Case.claimed_at)
    ).all()


def held_by(user_id: int, *, session: Session) -> Sequence[Case]:
    return session.scalars(
        select(Case)
        .where(Case.status == CaseStatus.CLAIMED.value, Case.claimed_by_id == user_id)
        .order_by(Case.claimed_at)
    ).all()


def claim(case_id: int, user_id: int, *, session: Session) -> bool:
    """Take a waiting case. A conditional update, so exactly one of several workers
    clicking at once gets it, on SQLite and PostgreSQL alike."""
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == CaseStatus.QUEUED.value)
        .values(status=CaseStatus.CLAIMED.value, claimed_by_id=user_id, claimed_at=utcnow())
    )
    return result.rowcount == 1


def hand_to(case: Case, user_id: int) -> None:
    """A claimed case changes hands, keeping when it was first taken."""
    case.claimed_by_id = user_id


def release(case: Case) -> None:
    """Back to the queue, keeping its place (created_at) and level."""
    case.status = CaseStatus.QUEUED.value
    case.claimed_by_id = None
    case.claimed_at = None


def close(case: Case, *, outcome: str, note: str | None, closed_at_seq: int) -> None:
    case.status = CaseStatus.CLOSED.value
    case.outcome = outcome
    case.note = note
    case.closed_at = utcnow()
    case.closed_at_seq = closed_at_seq


def typical_wait(
    *, session: Session, window: timedelta = timedelta(hours=24), minimum_cases: int = 3
) -> timedelta | None:
    """The median wait of cases claimed recently, or None when there are too few to say honestly."""
    since = utcnow() - window
    rows = session.execute(
        select(Case.created_at, Case.claimed_at).where(Case.claimed_at.is_not(None), Case.claimed_at > since)
    ).all()
    if len(rows) < minimum_cases:
        return None
    return timedelta(seconds=median((claimed - created).total_seconds() for created, claimed in rows))


def queue_position(case: Case, *, session: Session) -> int:
    """How many waiting cases will be offered to a worker before this one: those before it in the queue's
    order (level, then time), counted by the database rather than loaded, as a long queue would be."""
    ahead = or_(
        Case.level_rank < case.level_rank,
        and_(Case.level_rank == case.level_rank, Case.created_at <= case.created_at),
    )
    return session.scalar(
        select(func.count()).select_from(Case).where(Case.status == CaseStatus.QUEUED.value, Case.id != case.id, ahead)
    )


def keep_outcomes_only(conversation_ids: Sequence[str], *, session: Session) -> None:
    """Detach the cases of conversations about to be deleted and drop every word they hold
    (the quoted cues and the worker's note): level, criteria, outcome and timings stay for statistics."""
    session.execute(
        update(Case).where(Case.conversation_id.in_(conversation_ids)).values(conversation_id=None, cues=[], note=None)
    )


def delete_outcomes_closed_before(cutoff: datetime, *, session: Session) -> int:
    """Delete kept outcomes (cases whose conversation is gone) once their own retention period ends."""
    result = session.execute(delete(Case).where(Case.conversation_id.is_(None), Case.closed_at < cutoff))
    return result.rowcount
