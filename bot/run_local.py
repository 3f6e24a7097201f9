"""`make run`: start the whole service on embedded defaults and supervise it.

Starts the action server and the Rasa server on loopback (Rasa's HTTP API
protected by a token made fresh for this run) and the app on the public port,
waits until the app reports ready, and prints the URLs. Ctrl-C stops all three;
if one of them stops by itself, that is reported and the others are stopped.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT
from devtools.processes import NotReady, action_server_command, rasa_command, uvicorn_command, wait_until_answers


@dataclass
class Service:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None

    def start(self, env: dict[str, str]) -> None:
        # Own process group, so that Ctrl-C reaches the supervisor, which then
        # stops each service in order instead of all of them at once.
        self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=env, start_new_session=True)

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        if not self.process:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# The three processes serve many conversations at once on few cores. Math libraries that split each
# operation over every core then spin while they wait for one another (the sentence encoder took
# 210 ms a message instead of 16 ms under load here); one thread per operation leaves the cores to
# the requests. glibc gives each thread that allocates its own memory arena (up to eight per core),
# each keeping the memory freed in it; two arenas keep resident memory closer to what is in use.
PROCESS_TUNING = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}


def environment(base: Mapping[str, str] = os.environ) -> tuple[dict[str, str], dict[str, str]]:
    """The three processes' environment and ports, from `base` (the fault tests start each process
    themselves, with their own ports and files, to kill and restart one at a time)."""
    var = PROJECT_ROOT / "var"
    var.mkdir(exist_ok=True)
    ports = {
        "app_host": base.get("BOT_HOST", "127.0.0.1"),
        "app": base.get("BOT_PORT", "8000"),
        "rasa": base.get("RASA_PORT", "5005"),
        "actions": base.get("ACTIONS_PORT", "5055"),
    }
    env = dict(base)
    env.setdefault("BOT_RASA_TOKEN", secrets.token_urlsafe(32))
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        SANIC_HOST="127.0.0.1",
        # Rasa would otherwise send usage telemetry off the machine.
        RASA_TELEMETRY_ENABLED="false",
        BOT_RASA_URL=f"http://127.0.0.1:{ports['rasa']}",
        BOT_ACTIONS_URL=f"http://127.0.0.1:{ports['actions']}",
        RASA_ACTION_ENDPOINT=f"http://127.0.0.1:{ports['actions']}/webhook",
    )
    for name, default in {
        "BOT_DATABASE_URL": f"sqlite:///{var / 'app.sqlite3'}",
        "RASA_TRACKER_DIALECT": "sqlite",
        "RASA_TRACKER_URL": f"sqlite:///{var / 'rasa-tracker.sqlite3'}",
        "RASA_TRACKER_DB": "rasa",
        "RASA_LOCK_STORE": "in_memory",
        "RASA_REDIS_HOST": "127.0.0.1",
        "RASA_REDIS_PORT": "6379",
        "RASA_REDIS_DB": "1",
        **PROCESS_TUNING,
    }.items():
        env.setdefault(name, default)
    return env, ports


def use_wal_for_sqlite_tracker(tracker_url: str) -> None:
    """Rasa opens its SQLite tracker store in the default rollback-journal mode: every message's save
    then creates, syncs and deletes a journal file, and readers wait for writers. WAL mode is kept in
    the database file itself, so setting it once before Rasa starts is enough."""
    address = make_url(tracker_url)
    if address.get_backend_name() != "sqlite" or not address.database:
        return
    path = PROJECT_ROOT / address.database
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def services(ports: dict[str, str], token: str) -> list[Service]:
    return [
        Service("action server", action_server_command(ports["actions"])),
        Service("rasa", rasa_command(ports["rasa"], token)),
        Service("app", uvicorn_command(ports["app_host"], ports["app"])),
    ]


def main() -> int:
    env, ports = environment()
    if env["RASA_TRACKER_DIALECT"] == "sqlite":
        use_wal_for_sqlite_tracker(env["RASA_TRACKER_URL"])
    running = services(ports, env["BOT_RASA_TOKEN"])
    stopping = False

    def request_stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    for service in running:
        service.start(env)
    base = f"http://{ports['app_host']}:{ports['app']}"
    print(
        f"Starting: action server (127.0.0.1:{ports['actions']}), Rasa (127.0.0.1:{ports['rasa']}), app ({base})",
        flush=True,
    )
    # When not ready (a process stopped, or the wait ran out), the supervision below says which stopped.
    with contextlib.suppress(NotReady):
        wait_until_answers(f"{base}/readyz", [service.process for service in running])
        if not stopping:
            print(
                f"\nReady.\n  Chat widget:      {base}/\n  Helpline console: {base}/console  (make user NAME=... ROLE=staff)\n"
                f"  Moderation:       {base}/moderation\n  API schema:       {base}/openapi.json\nPress Ctrl-C to stop.\n",
                flush=True,
            )
    status = 0
    while not stopping:
        crashed = [service for service in running if service.exit_code() is not None]
        if crashed:
            for service in crashed:
                print(
                    f"\n{service.name} stopped unexpectedly (exit code {service.exit_code()}); stopping the rest.",
                    file=sys.stderr,
                    flush=True,
                )
            status = 1
            break
        time.sleep(0.5)
    print("Stopping...", flush=True)
    for service in reversed(running):
        service.stop()
    deadline = time.monotonic() + 15
    for service in reversed(running):
        service.wait_or_kill(deadline)
    print("Stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
