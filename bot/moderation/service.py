"""What moderators can list and read: ended conversations, without their words until one is opened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import tracker_store
from bot.conversation.models import Conversation, Event, EventType
from bot.handoff.models import Case, CaseStatus
from bot.moderation.models import FlagKind, ReviewFlag
from bot.moderation.redaction import Redactor
from bot.settings import PROJECT_ROOT
from safeguarding.risk_model import CRITERIA

# The young person's and the worker's words are redacted; the bot's are the project's own content.
REDACTED_TYPES = {EventType.USER_MESSAGE.value, EventType.HUMAN_MESSAGE.value}


def _has_open_case():
    return (
        select(Case.id).where(Case.conversation_id == Conversation.id, Case.status != CaseStatus.CLOSED.value).exists()
    )


def is_ended(conversation_id: str, *, quiet_since: datetime, session: Session) -> bool:
    """Ended: no open case, and no message since ``quiet_since``."""
    return (
        session.scalar(
            select(Conversation.id).where(
                Conversation.id == conversation_id,
                Conversation.last_activity_at < quiet_since,
                ~_has_open_case(),
            )
        )
        is not None
    )


@dataclass(frozen=True)
class Filters:
    """What a reviewer narrows the list to; None is "any"."""

    since: datetime | None = None
    until: datetime | None = None
    level: str | None = None
    outcome: str | None = None
    flag: str | None = None
    # Only these conversations: those with a turn the reviewer asked for (see turn_matches).
    conversation_ids: frozenset[str] | None = None


def turn_matches(*, low_confidence_below: float | None, fallback: bool, tracker_url: str) -> frozenset[str] | None:
    """The conversations with a turn Rasa was unsure of (confidence under ``low_confidence_below``)
    and, if ``fallback``, with a turn it could not place: read from Rasa's tracker store, which may
    be another database than the app's. None when neither is asked for."""
    matches: list[set[str]] = []
    if low_confidence_below is not None:
        matches.append(tracker_store.senders_with_low_confidence(low_confidence_below, tracker_url=tracker_url))
    if fallback:
        matches.append(tracker_store.senders_with_fallback(tracker_url=tracker_url))
    return frozenset(set.intersection(*matches)) if matches else None


def recent_conversations(
    *, quiet_since: datetime, include_live: bool, filters: Filters = Filters(), session: Session, limit: int = 100
) -> list[dict[str, Any]]:
    """Recent conversations with counts, case outcomes and flags, and none of the young people's words.
    Moderators get ended conversations only; an admin (``include_live``) gets every one, marked."""
    message_counts = (
        select(Event.conversation_id, func.count().label("messages"))
        .where(Event.type == EventType.USER_MESSAGE.value)
        .group_by(Event.conversation_id)
        .subquery()
    )
    ended = (Conversation.last_activity_at < quiet_since) & ~_has_open_case()
    query = (
        select(Conversation, message_counts.c.messages, ended.label("ended"))
        .outerjoin(message_counts, message_counts.c.conversation_id == Conversation.id)
        .order_by(Conversation.last_activity_at.desc())
        .limit(limit)
    )
    if not include_live:
        query = query.where(ended)
    query = _filtered(query, filters)
    rows = session.execute(query).all()
    flag_kinds: dict[str, list[str]] = {}
    for conversation_id, kind in session.execute(
        select(ReviewFlag.conversation_id, ReviewFlag.kind).where(
            ReviewFlag.conversation_id.in_([row[0].id for row in rows])
        )
    ):
        flag_kinds.setdefault(conversation_id, []).append(kind)
    cases: dict[str, list[Case]] = {}
    for case in session.scalars(select(Case).where(Case.conversation_id.in_([row[0].id for row in rows]))):
        cases.setdefault(case.conversation_id, []).append(case)
    return [
        {
            "conversation_id": conversation.id,
            "ended": bool(is_over),
            "started": conversation.created_at.isoformat(),
            "last_activity": conversation.last_activity_at.isoformat(),
            "messages": messages or 0,
            "cases": [
                {"level": case.level, "status": case.status, "criteria": case.criteria, "outcome": case.outcome}
                for case in cases.get(conversation.id, [])
            ],
            "flags": flag_kinds.get(conversation.id, []),
        }
        for conversation, messages, is_over in rows
    ]


def redacted(events: list[dict[str, Any]], redactor: Redactor) -> list[dict[str, Any]]:
    """The transcript as a moderator reads it: names, numbers, places and accounts hidden."""
    return [
        {**event, "text": redactor.redact(event["text"])} if event["type"] in REDACTED_TYPES else event
        for event in events
    ]


def _filtered(query, filters: Filters):
    if filters.since is not None:
        query = query.where(Conversation.last_activity_at >= filters.since)
    if filters.until is not None:
        query = query.where(Conversation.created_at <= filters.until)
    if filters.level is not None or filters.outcome is not None:
        matching_case = select(Case.id).where(Case.conversation_id == Conversation.id)
        if filters.level is not None:
            matching_case = matching_case.where(Case.level == filters.level)
        if filters.outcome is not None:
            matching_case = matching_case.where(Case.outcome == filters.outcome)
        query = query.where(matching_case.exists())
    if filters.conversation_ids is not None:
        query = query.where(Conversation.id.in_(filters.conversation_ids))
    if filters.flag is not None:
        query = query.where(
            select(ReviewFlag.id)
            .where(ReviewFlag.conversation_id == Conversation.id, ReviewFlag.kind == filters.flag)
            .exists()
        )
    return query


def review_turns(
    conversation_id: str, *, tracker_url: str, redactor: Redactor, low_confidence_below: float
) -> list[dict[str, Any]]:
    """Per message of the young person, from Rasa's tracker store: what they said (redacted), the
    intent and its confidence (marked low under ``low_confidence_below``, as the list's filter
    does), the risk decision the safety action attached, and the bot's replies."""
    turns: list[dict[str, Any]] = []
    for type_name, event in tracker_store.events(conversation_id, tracker_url=tracker_url):
        if type_name == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            confidence = float(intent.get("confidence") or 0.0)
            turns.append(
                {
                    "turn": len(turns) + 1,
                    "text": redactor.redact(event.get("text") or ""),
                    "intent": intent.get("name"),
                    "confidence": round(confidence, 3),
                    "low_confidence": confidence < low_confidence_below,
                    "fallback": intent.get("name") == tracker_store.FALLBACK_INTENT,
                    "decision": None,
                    "replies": [],
                }
            )
        elif type_name == "bot" and turns:
            custom = (event.get("data") or {}).get("custom")
            if isinstance(custom, dict) and isinstance(custom.get("safety"), dict):
                safety = custom["safety"]
                turns[-1]["decision"] = {key: safety.get(key) for key in ("action", "level", "criteria")}
            elif event.get("text"):
                turns[-1]["replies"].append(event["text"])
    return turns


@cache
def known_intents() -> frozenset[str]:
    """The intents in domain.yml: a "wrong intent" flag names one of them."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return frozenset(next(iter(entry)) if isinstance(entry, dict) else entry for entry in domain["intents"])


class InvalidFlag(ValueError):
    pass


def add_flag(
    conversation_id: str,
    *,
    turn: int,
    kind: FlagKind,
    right_intent: str | None,
    criteria: Sequence[str],
    note: str | None,
    flagged_by_id: int,
    session: Session,
) -> ReviewFlag:
    """A flag on one of the young person's messages; the error's text key says what is missing."""
    messages = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.conversation_id == conversation_id, Event.type == EventType.USER_MESSAGE.value)
    )
    if not 1 <= turn <= (messages or 0):
        raise InvalidFlag("flag_no_turn")
    if kind == FlagKind.WRONG_INTENT and right_intent not in known_intents():
        raise InvalidFlag("flag_needs_intent")
    if kind == FlagKind.MISSED_HANDOFF and (not criteria or not set(criteria) <= set(CRITERIA)):
        raise InvalidFlag("flag_needs_criteria")
    flag = ReviewFlag(
        conversation_id=conversation_id,
        turn=turn,
        kind=kind.value,
        right_intent=right_intent if kind == FlagKind.WRONG_INTENT else None,
        criteria=list(criteria) if kind == FlagKind.MISSED_HANDOFF else [],
        note=note,
        flagged_by_id=flagged_by_id,
    )
    session.add(flag)
    session.flush()
    return flag


def flags(*, session: Session, kind: str | None = None) -> Sequence[ReviewFlag]:
    query = select(ReviewFlag).order_by(ReviewFlag.at.desc())
    if kind is not None:
        query = query.where(ReviewFlag.kind == kind)
    return session.scalars(query).all()


def flag_counts(*, session: Session) -> dict[str, int]:
    """How many flags of each kind; missed handoffs first, the failure that matters most."""
    counts = dict(session.execute(select(ReviewFlag.kind, func.count()).group_by(ReviewFlag.kind)).all())
    order = [FlagKind.MISSED_HANDOFF, FlagKind.UNSAFE_REPLY, FlagKind.WRONG_INTENT, FlagKind.NEEDLESS_HANDOFF]
    return {kind.value: counts.get(kind.value, 0) for kind in order}
