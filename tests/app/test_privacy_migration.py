"""Migration 0003_privacy on a database already in use: every transcript view recorded so far
becomes an audit event, and the new table refuses changes from the start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.audit.models import AuditEvent
from bot.database import make_engine
from bot.settings import PROJECT_ROOT
from tests.conftest import new_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    with new_postgres_database("youthchat_migration") as name:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def migrate(url: str, revision: str) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, revision)


def test_transcript_views_become_append_only_audit_events(empty_database: str) -> None:
    migrate(empty_database, "0002")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff_users (username, role, password_hash, failed_logins, on_shift, created_at) "
                "VALUES ('mo', 'moderator', 'x', 0, false, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO transcript_views (viewer_id, conversation_id, purpose, at) "
                "VALUES (1, 'abc', 'moderation', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()

    migrate(empty_database, "0003_privacy")

    engine = make_engine(empty_database)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT action, actor_id, conversation_id FROM audit_events")).all()
    assert [tuple(row) for row in rows] == [("transcript_read", 1, "abc")]
    with Session(engine) as session:
        [event] = session.scalars(select(AuditEvent)).all()
        assert event.detail == {"purpose": "moderation"} and event.at.tzinfo is not None
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    engine.dispose()
