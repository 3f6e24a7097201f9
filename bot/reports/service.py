"""The figures behind the reports page; none holds any message text."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from statistics import quantiles
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import tracker_store
from bot.conversation.models import Conversation
from bot.handoff.models import Case
from bot.moderation import service as moderation


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[percent - 1]


def figures(*, since: datetime, tracker_url: str, session: Session) -> dict[str, Any]:
    """Conversations per day, handoffs by criterion and level, time to a worker (p50/p95),
    outcomes, the NLU fallback rate and flagged turns, since a moment."""
    per_day = session.execute(
        select(func.date(Conversation.created_at), func.count())
        .where(Conversation.created_at >= since)
        .group_by(func.date(Conversation.created_at))
        .order_by(func.date(Conversation.created_at))
    ).all()
    handoffs = session.scalars(select(Case).where(Case.created_at >= since)).all()
    waits = [(case.claimed_at - case.created_at).total_seconds() for case in handoffs if case.claimed_at]
    user_turns, fallbacks = tracker_store.fallback_counts(since.timestamp(), tracker_url=tracker_url)
    return {
        # Kept only as long as their transcripts (BOT_RETENTION_DAYS); handoffs below, as long as outcomes.
        "conversations_per_day": [(str(day), count) for day, count in per_day],
        "handoffs_by_level": sorted(Counter(case.level for case in handoffs).items()),
        "handoffs_by_criterion": sorted(Counter(c for case in handoffs for c in case.criteria).items()),
        "outcomes": sorted(Counter(case.outcome for case in handoffs if case.outcome).items()),
        "wait_seconds": {"p50": _percentile(waits, 50), "p95": _percentile(waits, 95), "cases": len(waits)},
        "fallback": {
            "turns": user_turns,
            "fallbacks": fallbacks,
            "rate": fallbacks / user_turns if user_turns else None,
        },
        "flagged_turns": list(moderation.flag_counts(session=session).items()),
    }


def csv_rows(report: dict[str, Any]) -> list[tuple[str, str, object]]:
    """The same figures as (measure, key, value) rows for a spreadsheet."""
    rows: list[tuple[str, str, object]] = []
    for measure in ("conversations_per_day", "handoffs_by_level", "handoffs_by_criterion", "outcomes", "flagged_turns"):
        rows += [(measure, str(key), value) for key, value in report[measure]]
    rows += [("wait_seconds", key, value) for key, value in report["wait_seconds"].items()]
    rows += [("fallback", key, value) for key, value in report["fallback"].items()]
    return rows
