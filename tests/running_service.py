"""The whole service, started the way `make run` starts it, with the trained model (shared by e2e and browser tests).

One instance for the whole test session (Rasa takes a while to load): the
action server, Rasa and the app, on spare loopback ports, with their own
SQLite files under a temporary folder; and a helpline's website on another
origin, with the README's embed, that BOT_EMBED_ORIGINS lets show the chat.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_embed(service_url: str) -> str:
    """The README's one-line embed, exactly as a website would paste it, pointed at the service."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```html\n(<script src=\"https://HOST/widget\.js\".*?)```", readme, re.DOTALL).group(1)
    return snippet.replace("https://HOST", service_url)


class EmbeddingSite:
    """A helpline's website on its own origin (127.0.0.1, another port) with the README's embed."""

    def __init__(self, service_url: str, port: int) -> None:
        page = (
            '<!doctype html>\n<html lang="en-GB"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>A helpline's website</title></head>\n<body><main><h1>Worried about a picture?</h1>"
            "<p>You can talk to us. It's private.</p></main>\n"
            f"{readme_embed(service_url)}</body></html>\n"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_process(
    command: list[str], env: dict[str, str], ready_url: str, log: Path | None = None, timeout: float = STARTUP_SECONDS
) -> subprocess.Popen:
    """Start one process of the service (its output appended to `log`) and return once `ready_url` answers 200."""
    with open(log, "ab") if log else open(os.devnull, "wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    # Not left running behind a failed test (a part that never became ready still holds its port).
    stop(process, signal.SIGKILL)
    raise AssertionError(f"{command[0]} did not start: it stopped, or was not ready in time")


def start_app(env: dict[str, str], port: int, timeout: float = 120, log: Path | None = None) -> subprocess.Popen:
    """One more app instance (uvicorn, no access log) on this port, once it answers /healthz."""
    command = [sys.executable, "-m", "uvicorn", "bot.asgi:app", "--host", "127.0.0.1", "--port", str(port)]
    return start_process([*command, "--no-access-log"], env, f"http://127.0.0.1:{port}/healthz", log, timeout)


def stop(process: subprocess.Popen, sig: signal.Signals = signal.SIGTERM) -> None:
    """Stop a process a test started, and reap it."""
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(timeout=60)


class ThrowawayPostgres:
    """A PostgreSQL server of a test's own, on a spare port, that the test may stop and start again
    (Debian's binaries, started as scripts/with-test-servers starts them). Never the system's server."""

    def __init__(self) -> None:
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="faults-postgres."))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.process: subprocess.Popen | None = None
        # PostgreSQL refuses to run as root; Debian's package made the postgres user. Run as it
        # directly (not through runuser), so that a signal reaches the server itself.
        self.user = "postgres" if os.getuid() == 0 else None
        if self.user:
            shutil.chown(self.folder, self.user)
        subprocess.run(
            [str(self.bin / "initdb"), "--pgdata", str(self.data), "--username", "postgres", "--auth", "trust"],
            check=True,
            stdout=subprocess.DEVNULL,
            user=self.user,
        )

    def start(self) -> None:
        with open(self.folder / "postgres.log", "ab") as output:
            self.process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-h", "127.0.0.1"]
                + ["-p", str(self.port), "-k", str(self.data), "-c", "fsync=off"],
                stdout=output,
                stderr=subprocess.STDOUT,
                user=self.user,
            )
        deadline = time.monotonic() + 30
        ready = [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        while subprocess.run(ready).returncode != 0:
            assert self.process.poll() is None and time.monotonic() < deadline, "PostgreSQL did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        """Fast shutdown: every connection is cut, as in an outage."""
        if self.process:
            stop(self.process, signal.SIGINT)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


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
    # A website on another origin that embeds the widget with the README's line.
    embedding_site_url: str


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Iterator[RunningService]:
    model = PROJECT / "models" / "current.tar.gz"
    assert model.exists(), "train the model first: make model"
    folder = tmp_path_factory.mktemp("service")
    database_url = f"sqlite:///{folder / 'app.sqlite3'}"
    ports = {"BOT_PORT": free_port(), "RASA_PORT": free_port(), "ACTIONS_PORT": free_port()}
    embedding_port = free_port()
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "BOT_DATABASE_URL": database_url,
        "RASA_TRACKER_URL": f"sqlite:///{folder / 'tracker.sqlite3'}",
        "BOT_RASA_TOKEN": "e2e-token",
        "BOT_COOKIE_SECURE": "0",
        "BOT_EMBED_ORIGINS": f"http://127.0.0.1:{embedding_port}",
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
    site = EmbeddingSite(base_url, embedding_port)
    yield RunningService(
        base_url=base_url,
        database_url=database_url,
        rasa_url=f"http://127.0.0.1:{ports['RASA_PORT']}",
        rasa_token="e2e-token",
        app_env=app_env,
        process=process,
        log=log,
        embedding_site_url=site.url,
    )
    site.close()
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
        return self.replies_to(self.send(text, payload), settle)

    def send(self, text: str, payload: str | None = None) -> int:
        """Send a message and return its seq once the service has acknowledged it."""
        self.sent += 1
        body = {"client_message_id": f"e2e-{self.sent}", "text": text, **({"payload": payload} if payload else {})}
        response = self.http.post(f"/api/conversations/{self.id}/messages", json=body, headers=self.headers)
        assert response.status_code == 202, response.text
        return response.json()["seq"]

    def replies_to(self, seq: int, settle: float = 1.5) -> list[dict]:
        """Every event after the message with this seq until the bot falls quiet."""
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
