"""Rasa's own SQL tracker store, written by Rasa itself (the Rasa environment), and read directly."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from bot import tracker_store
from bot.settings import PROJECT_ROOT
from tests.conftest import new_postgres_database

RASA_PYTHON = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "python"

# Rasa saves a tracker for each sender id the way it does after a message: the table,
# its columns and its rows are Rasa's, not an imitation of them.
_SAVE_TRACKERS = """
import asyncio, json, sys, time
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

url, hours_ago, intents, senders = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4:]
at = time.time() - hours_ago * 3600
store = SQLTrackerStore(Domain.empty(), dialect=url.split(":")[0], host=url)

async def save():
    for sender in senders:
        # As Rasa stores a turn: the intent and its confidence, the safety action's decision, the reply.
        intent = dict(zip(("name", "confidence"), intents.get(sender, ["disclose_coercion", 0.91])))
        events = [
            ActionExecuted("action_listen", timestamp=at),
            UserUttered(
                "my snap is jake_22",
                intent=intent,
                parse_data={"intent": intent, "entities": []},
                timestamp=at,
            ),
            BotUttered(data={"custom": {"safety": {"action": "handoff", "level": "high", "criteria": ["coercion"]}}}, timestamp=at),
            BotUttered("Thanks for telling me.", timestamp=at),
        ]
        await store.save(DialogueStateTracker.from_events(sender, events))

asyncio.run(save())
"""


def rasa_saves_trackers(
    tracker_url: str,
    sender_ids: list[str],
    *,
    hours_ago: float = 0,
    intents: dict[str, tuple[str, float]] | None = None,
) -> None:
    """Rasa stores one turn for each sender: a coercion disclosure at 0.91 unless ``intents``
    gives the sender another (intent, confidence)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", _SAVE_TRACKERS, tracker_url, str(hours_ago), json.dumps(intents or {}), *sender_ids],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def stored_events(tracker_url: str, sender_id: str) -> int:
    """How many rows Rasa's `events` table holds for this conversation."""
    url = tracker_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :id"), {"id": sender_id}
            ).scalar_one()
    finally:
        engine.dispose()


@contextmanager
def rasa_tracker_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database for Rasa's tracker store, SQLite or on the local PostgreSQL server,
    named as endpoints.yml names it."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'rasa-tracker.sqlite3'}"
        return
    with new_postgres_database("youthchat_rasa") as name:
        try:
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        finally:
            tracker_store._engine.cache_clear()
