"""The whole service, started the way `make run` starts it, with the trained model (shared by e2e and browser tests).

One instance for the whole test session (Rasa takes a while to load): the
action server, Rasa and the app, on spare loopback ports, with their own
SQLite files under a temporary folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningService:
    base_url: str
    database_url: str
    rasa_url: str
    rasa_token: str
    # The environment the app runs with, to start another app instance beside it.
    app_env: dict[str, str]
    process: subprocess.Popen
    log: Path


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Iterator[RunningService]:
    model = PROJECT / "models" / "current.tar.gz"
    assert model.exists(), "train the model first: make model"
    folder = tmp_path_factory.mktemp("service")
    database_url = f"sqlite:///{folder / 'app.sqlite3'}"
    ports = {"BOT_PORT": free_port(), "RASA_PORT": free_port(), "ACTIONS_PORT": free_port()}
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "BOT_DATABASE_URL": database_url,
        "RASA_TRACKER_URL": f"sqlite:///{folder / 'tracker.sqlite3'}",
        "BOT_RASA_TOKEN": "e2e-token",
        "BOT_COOKIE_SECURE": "0",
    }
    from bot.database import upgrade_database

    upgrade_database(database_url)
    log = folder / "service.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.run_local"], cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{ports['BOT_PORT']}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, f"the service stopped while starting:\n{log.read_text()[-4000:]}"
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the service was not ready in time:\n{log.read_text()[-4000:]}"
        time.sleep(1)
    app_env = {
        **env,
        "BOT_RASA_URL": f"http://127.0.0.1:{ports['RASA_PORT']}",
        "BOT_ACTIONS_URL": f"http://127.0.0.1:{ports['ACTIONS_PORT']}",
    }
    yield RunningService(
        base_url, database_url, f"http://127.0.0.1:{ports['RASA_PORT']}", "e2e-token", app_env, process, log
    )
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


class Conversation:
    """A young person's conversation through the public API of the running service."""

    def __init__(self, base_url: str, nation: str | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        # The nation is what the widget's data-nation sends when a conversation starts.
        started = self.http.post("/api/conversations", json={"nation": nation} if nation else None)
        assert started.status_code == 201, started.text
        self.id = started.json()["conversation_id"]
        self.headers = {"Authorization": f"Bearer {started.json()['token']}"}
        self.seen = self.http.get(f"/api/conversations/{self.id}/events", headers=self.headers).json()["events"]
        self.sent = 0

    @property
    def last_seq(self) -> int:
        return self.seen[-1]["seq"] if self.seen else 0

    def say(self, text: str, payload: str | None = None, settle: float = 1.5) -> list[dict]:
        """Send a message and return every event that follows it until the bot falls quiet."""
        self.sent += 1
        body = {"client_message_id": f"e2e-{self.sent}", "text": text, **({"payload": payload} if payload else {})}
        response = self.http.post(f"/api/conversations/{self.id}/messages", json=body, headers=self.headers)
        assert response.status_code == 202, response.text
        seq = response.json()["seq"]
        new: list[dict] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = max([seq - 1, *[e["seq"] for e in new]])
            wait = settle if any(e["type"] != "user_message" for e in new) else 20
            events = self.http.get(
                f"/api/conversations/{self.id}/events", params={"after": after, "wait": wait}, headers=self.headers
            ).json()["events"]
            if not events and any(e["type"] != "user_message" for e in new):
                break
            new += events
        self.seen += new
        return [e for e in new if e["seq"] > seq]

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def conversation(service: RunningService) -> Iterator[Conversation]:
    conversation = Conversation(service.base_url)
    yield conversation
    conversation.close()
