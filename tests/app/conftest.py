"""App fixtures: the real app on a real, migrated database.

Rasa is not running in these tests (it points at a closed port), which is
itself a scenario the app must handle: the young person still gets the
fail-safe reply, and the app's safety net still hands danger to a person.
End-to-end tests with the trained model live in tests/e2e.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bot.app import create_app
from bot.database import Base, session_factory, upgrade_database
from bot.models import import_all_models
from bot.settings import Settings
from devtools.teen import TeenClient

CLOSED_PORT_URL = "http://127.0.0.1:9"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
        upgrade_database(url)
        yield url
        session_factory(url).kw["bind"].dispose()
        return
    url = request.getfixturevalue("postgres_url")
    upgrade_database(url)
    yield url
    import_all_models()
    with session_factory(url).begin() as session:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_url(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    upgrade_database(url)
    yield url
    session_factory(url).kw["bind"].dispose()


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        rasa_urls=(CLOSED_PORT_URL,),
        actions_url=CLOSED_PORT_URL,
        rasa_token="test-token",
        rasa_timeout_seconds=2.0,
        cookie_secure=False,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(database_url))) as test_client:
        yield test_client


@pytest.fixture
def chat(client: TestClient) -> TeenClient:
    """A young person's conversation through the public API."""
    return TeenClient(client)
