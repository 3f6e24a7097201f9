"""At scale: PostgreSQL and Redis for real, Rasa's SQL tracker store and Redis lock store,
and two app instances sharing one database, with notifications between them through Redis."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from devtools.processes import RUN_LOCAL, free_port, start, stop, uvicorn_command
from devtools.teen import TeenClient
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture(scope="module")
def scaled() -> Iterator[dict]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = {"app": f"youthchat_app_{secrets.token_hex(4)}", "rasa": f"youthchat_rasa_{secrets.token_hex(4)}"}
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    app_db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{names['app']}"
    ports = {"BOT_PORT": free_port(), "RASA_PORT": free_port(), "ACTIONS_PORT": free_port()}
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "BOT_DATABASE_URL": app_db,
        "BOT_REDIS_URL": "redis://127.0.0.1:6379/5",
        "BOT_RASA_TOKEN": "scale-token",
        "RASA_TRACKER_DIALECT": "postgresql",
        "RASA_TRACKER_URL": f"postgresql://postgres@127.0.0.1:5432/{names['rasa']}",
        "RASA_LOCK_STORE": "redis",
        "RASA_REDIS_DB": "6",
    }
    from bot.database import upgrade_database

    upgrade_database(app_db)
    service = second = None
    try:
        service = start(RUN_LOCAL, env=env, ready_url=f"http://127.0.0.1:{ports['BOT_PORT']}/readyz")
        second_port = free_port()
        second_env = {
            **env,
            "BOT_RASA_URL": f"http://127.0.0.1:{ports['RASA_PORT']}",
            "BOT_ACTIONS_URL": f"http://127.0.0.1:{ports['ACTIONS_PORT']}",
        }
        second = start(
            uvicorn_command("127.0.0.1", second_port),
            env=second_env,
            ready_url=f"http://127.0.0.1:{second_port}/readyz",
        )
        yield {
            "first": f"http://127.0.0.1:{ports['BOT_PORT']}",
            "second": f"http://127.0.0.1:{second_port}",
            "rasa_db": names["rasa"],
        }
    finally:
        for process in (second, service):
            if process is not None:
                stop(process)
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_message_sent_to_one_instance_streams_from_the_other(scaled) -> None:
    young_person = TeenClient.at(scaled["first"])
    conversation, token = young_person.id, young_person.token
    stream_url = scaled["second"].replace("http", "ws", 1) + f"/api/conversations/{conversation}/stream"
    with connect(stream_url) as stream:
        stream.send(json.dumps({"token": token, "after": 0}))
        welcome = [json.loads(stream.recv(timeout=10)) for _ in range(2)]
        assert [event["type"] for event in welcome] == ["bot_message", "bot_message"]
        assert young_person.send("are you a real person?").status_code == 202
        received = []
        deadline = time.monotonic() + 30
        while not any(e.get("type") == "bot_message" for e in received):
            assert time.monotonic() < deadline, received
            event = json.loads(stream.recv(timeout=30))
            if "seq" in event:
                received.append(event)
    assert received[0] == {**received[0], "type": "user_message", "text": "are you a real person?"}
    assert "chatbot" in received[-1]["text"].lower()

    rasa_db = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{scaled['rasa_db']}")

    def stored_in_rasa() -> int:
        with rasa_db.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :id"), {"id": conversation}
            ).scalar()

    assert stored_in_rasa() > 0, "Rasa stored the conversation in its PostgreSQL tracker store"
    # "Delete my chat", on the other instance, deletes it from Rasa's tracker store too.
    deleted = httpx.delete(
        f"{scaled['second']}/api/conversations/{conversation}", headers={"Authorization": f"Bearer {token}"}
    )
    assert deleted.status_code == 204
    assert stored_in_rasa() == 0
    rasa_db.dispose()
    young_person.close()
