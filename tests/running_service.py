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
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.processes import (
    RUN_LOCAL,
    action_server_command,
    free_port,
    rasa_command,
    start,
    stop,
    uvicorn_command,
)
from devtools.teen import TeenClient

PROJECT = Path(__file__).resolve().parents[1]


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


def _sink(log: Path | None) -> Path | int:
    return log if log else subprocess.DEVNULL


def start_app(env: dict[str, str], port: int, timeout: float = 120, log: Path | None = None) -> subprocess.Popen:
    """One more app instance on this port, once it answers /healthz."""
    ready = f"http://127.0.0.1:{port}/healthz"
    return start(uvicorn_command("127.0.0.1", port), env=env, ready_url=ready, output=_sink(log), timeout=timeout)


def start_rasa(env: dict[str, str], port: int, log: Path | None = None) -> subprocess.Popen:
    """A Rasa server with the trained model, once its authenticated API answers (the model is loaded by then)."""
    token = env["BOT_RASA_TOKEN"]
    ready = f"http://127.0.0.1:{port}/status?token={token}"
    return start(rasa_command(port, token), env=env, ready_url=ready, output=_sink(log))


def start_action_server(env: dict[str, str], port: int, log: Path | None = None) -> subprocess.Popen:
    ready = f"http://127.0.0.1:{port}/health"
    return start(action_server_command(port), env=env, ready_url=ready, output=_sink(log))


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
    base_url = f"http://127.0.0.1:{ports['BOT_PORT']}"
    process = start(RUN_LOCAL, env=env, ready_url=f"{base_url}/readyz", output=log)
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
    stop(process, signal.SIGINT)


@pytest.fixture
def conversation(service: RunningService) -> Iterator[TeenClient]:
    conversation = TeenClient.at(service.base_url)
    yield conversation
    conversation.close()
