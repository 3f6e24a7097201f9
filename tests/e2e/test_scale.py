"""At scale: PostgreSQL and Redis for real, Rasa's SQL tracker store and Redis lock store,
and two app instances sharing one database, with notifications between them through Redis."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from tests.conftest import POSTGRES_ADMIN_URL
from tests.running_service import PROJECT, free_port

STARTUP_SECONDS = 300


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, "a process of the scaled service stopped while starting"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the scaled service was not ready in time"
        time.sleep(1)


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
    service = subprocess.Popen(
        [sys.executable, "-m", "bot.run_local"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    second_port = free_port()
    second = None
    try:
        _wait_ready(f"http://127.0.0.1:{ports['BOT_PORT']}/readyz", service)
        second_env = {
            **env,
            "BOT_RASA_URL": f"http://127.0.0.1:{ports['RASA_PORT']}",
            "BOT_ACTIONS_URL": f"http://127.0.0.1:{ports['ACTIONS_PORT']}",
        }
        second = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bot.asgi:app", "--host", "127.0.0.1", "--port", str(second_port)],
            cwd=PROJECT,
            env=second_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_ready(f"http://127.0.0.1:{second_port}/readyz", second)
        yield {
            "first": f"http://127.0.0.1:{ports['BOT_PORT']}",
            "second": f"http://127.0.0.1:{second_port}",
            "rasa_db": names["rasa"],
        }
    finally:
        for process in (second, service):
            if process is not None:
                process.send_signal(signal.SIGINT if process is service else signal.SIGTERM)
                process.wait(timeout=60)
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_message_sent_to_one_instance_streams_from_the_other(scaled) -> None:
    started = httpx.post(f"{scaled['first']}/api/conversations").json()
    conversation, token = started["conversation_id"], started["token"]
    stream_url = scaled["second"].replace("http", "ws", 1) + f"/api/conversations/{conversation}/stream"
    with connect(stream_url) as stream:
        stream.send(json.dumps({"token": token, "after": 0}))
        welcome = [json.loads(stream.recv(timeout=10)) for _ in range(2)]
        assert [event["type"] for event in welcome] == ["bot_message", "bot_message"]
        sent = httpx.post(
            f"{scaled['first']}/api/conversations/{conversation}/messages",
            json={"client_message_id": "one", "text": "are you a real person?"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 202
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
