"""Rasa's SQL tracker store, as the app reads it: table ``events``, one row per Rasa event
(``type_name``, ``data`` as JSON), keyed by ``sender_id``, which is the conversation id.
Where it is comes from ``RASA_TRACKER_URL``, the same variable Rasa reads through endpoints.yml."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    case,
    cast,
    column,
    create_engine,
    delete,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url

# Rasa's FallbackClassifier (config.yml) names a message it could not place with this intent.
FALLBACK_INTENT = "nlu_fallback"
EVENTS = table(
    "events",
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("intent_name"),
    column("timestamp"),
    column("data"),
)


@cache
def _engine(tracker_url: str) -> Engine:
    address = make_url(tracker_url)
    # Rasa names the driver-less URL; the app's environment has psycopg 3, not psycopg2.
    if address.drivername in ("postgresql", "postgres"):
        address = address.set(drivername="postgresql+psycopg")
    return create_engine(address, hide_parameters=True, pool_pre_ping=True)


@contextmanager
def _events_table(tracker_url: str, *, write: bool) -> Iterator[Connection | None]:
    """A connection, or None when Rasa has stored nothing yet (no file, or no table)."""
    address = make_url(tracker_url)
    if address.get_backend_name() == "sqlite" and not Path(address.database or "").exists():
        yield None  # connecting would create an empty file
        return
    engine = _engine(tracker_url)
    with engine.begin() if write else engine.connect() as connection:
        yield connection if inspect(connection).has_table("events") else None


def forget(conversation_ids: Sequence[str], *, tracker_url: str) -> int:
    """Delete the conversations' events; returns how many rows went."""
    with _events_table(tracker_url, write=True) as connection:
        if connection is None:
            return 0
        return connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(conversation_ids))).rowcount


def senders_before(timestamp: float, *, tracker_url: str) -> list[str]:
    """Conversations with an event older than this Unix time."""
    with _events_table(tracker_url, write=False) as connection:
        if connection is None:
            return []
        return list(connection.scalars(select(EVENTS.c.sender_id).where(EVENTS.c.timestamp < timestamp).distinct()))


def events(conversation_id: str, *, tracker_url: str) -> list[tuple[str, dict[str, Any]]]:
    """The conversation's Rasa events in order, as (type, event)."""
    with _events_table(tracker_url, write=False) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            select(EVENTS.c.type_name, EVENTS.c.data).where(EVENTS.c.sender_id == conversation_id).order_by(EVENTS.c.id)
        )
        return [(type_name, json.loads(data or "{}")) for type_name, data in rows]


def fallback_counts(since: float, *, tracker_url: str) -> tuple[int, int]:
    """The young people's messages since this Unix time, and how many Rasa could not place
    (FALLBACK_INTENT)."""
    user_events = table("events", column("type_name"), column("intent_name"), column("timestamp"))
    with _events_table(tracker_url, write=False) as connection:
        if connection is None:
            return 0, 0
        turns, fallbacks = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((user_events.c.intent_name == FALLBACK_INTENT, 1), else_=0)), 0),
            ).where(user_events.c.type_name == "user", user_events.c.timestamp >= since)
        ).one()
        return int(turns), int(fallbacks)


def _intent_confidence(connection: Connection):
    """The confidence Rasa gave a user event's intent, read from the event's JSON (stored as text)."""
    if connection.dialect.name == "postgresql":
        return cast(cast(EVENTS.c.data, JSONB)[("parse_data", "intent", "confidence")].astext, Float)
    return func.json_extract(EVENTS.c.data, "$.parse_data.intent.confidence")


def _senders_with_a_message(where: Callable[[Connection], ColumnElement[bool]], *, tracker_url: str) -> set[str]:
    """Conversations with a user message that meets the condition (made for the connection's dialect)."""
    with _events_table(tracker_url, write=False) as connection:
        if connection is None:
            return set()
        return set(
            connection.scalars(
                select(EVENTS.c.sender_id).where(EVENTS.c.type_name == "user", where(connection)).distinct()
            )
        )


def senders_with_fallback(*, tracker_url: str) -> set[str]:
    """Conversations with a message Rasa could not place (FALLBACK_INTENT)."""
    return _senders_with_a_message(lambda _connection: EVENTS.c.intent_name == FALLBACK_INTENT, tracker_url=tracker_url)


def senders_with_low_confidence(below: float, *, tracker_url: str) -> set[str]:
    """Conversations with a message whose intent Rasa was less sure of than ``below``."""
    return _senders_with_a_message(lambda connection: _intent_confidence(connection) < below, tracker_url=tracker_url)
