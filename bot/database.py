"""Engine, sessions and the declarative base shared by every domain package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cache

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned as aware UTC datetimes on every backend.

    SQLite has no time zones; without this, the same column would come back naive
    there and aware on PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


# The largest value an INTEGER column holds on PostgreSQL (sequence numbers, case ids): a number
# over it from a client is refused as invalid, not sent to the database to fail there.
LARGEST_INTEGER = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _prepare_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the long-poll readers run while a message is being written;
    # busy_timeout makes concurrent writers queue instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# An execution option for units of work that only read (Services.read).
READ_ONLY = "bot_read_only"


def _begin(connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        # A reader needs no lock in WAL mode: it neither waits for the writer nor holds it up.
        connection.exec_driver_sql("BEGIN")
        return
    # SQLite's default deferred transactions upgrade to a write lock late and
    # can deadlock; taking the write lock at BEGIN serialises writers cleanly.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    # hide_parameters: SQL errors would otherwise quote the young person's words into the logs.
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "isolation_level": None}, hide_parameters=True
        )
        event.listen(engine, "connect", _prepare_sqlite)
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


@cache
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


def session_factory(url: str) -> sessionmaker[Session]:
    return _session_factory(url)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed if the block succeeds, rolled back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade_database(url: str) -> None:
    """Apply every Alembic migration to the database at ``url``."""
    from alembic import command
    from alembic.config import Config

    from bot.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
