"""Shared test fixtures: real databases (SQLite files and the local PostgreSQL server)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server for this test session."""
    from sqlalchemy import create_engine, text

    name = f"youthchat_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from bot.database import session_factory

        session_factory(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}").kw["bind"].dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
