"""Service functions for helpline cases."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.database import utcnow
from bot.handoff.models import Case, CaseLevel, CaseStatus

OPEN_STATUSES = (CaseStatus.QUEUED.value, CaseStatus.CLAIMED.value)


def open_case_for(conversation_id: str, *, session: Session) -> Case | None:
    return session.scalars(
        select(Case).where(Case.conversation_id == conversation_id, Case.status.in_(OPEN_STATUSES))
    ).first()


def create(
    conversation_id: str,
    *,
    level: CaseLevel,
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
        level_rank=level.rank,
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


def raise_level(case: Case, level: CaseLevel, criteria: Sequence[str], evidence: Sequence[dict]) -> bool:
    """Move an open case up the queue when something more serious comes out; never down."""
    changed = False
    if level.rank < case.level_rank:
        case.level, case.level_rank = level.value, level.rank
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


def close(case: Case, *, outcome: str, note: str | None, closed_at_seq: int) -> None:
    case.status = CaseStatus.CLOSED.value
    case.outcome = outcome
    case.note = note
    case.closed_at = utcnow()
    case.closed_at_seq = closed_at_seq
