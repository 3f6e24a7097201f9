"""Shared test fixtures: real databases (SQLite files and the local PostgreSQL server)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def new_postgres_database(prefix: str) -> Iterator[str]:
    """A database of its own on the local PostgreSQL server (its name), dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server for this test session."""
    with new_postgres_database("youthchat_test") as name:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            yield url
        finally:
            from bot.database import session_factory

            session_factory(url).kw["bind"].dispose()
