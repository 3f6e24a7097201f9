"""Starting the service's processes and waiting until they answer: for `make run`, the scripts and the tests."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = PROJECT_ROOT / ".venv" / "rasa" / "bin"
# Rasa loads its model and the sentence encoder: minutes on a busy two-core machine.
STARTUP_SECONDS = 300
# The whole service as `make run` starts it (bot/run_local.py), in the app's environment.
RUN_LOCAL = [sys.executable, "-m", "bot.run_local"]


class NotReady(Exception):
    """A process stopped, or did not answer in time, while starting."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uvicorn_command(host: str, port: int | str) -> list[str]:
    """The app's command line. No access log: it would record young people's IP addresses."""
    return [sys.executable, "-m", "uvicorn", "bot.asgi:app", "--host", host, "--port", str(port), "--no-access-log"]


def action_server_command(port: int | str) -> list[str]:
    return [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)]


def rasa_command(port: int | str, token: str) -> list[str]:
    """Rasa on loopback only, its HTTP API protected by the token (channels/server.py: `rasa run`, faster)."""
    return [
        str(RASA_BIN / "python"),
        "-m",
        "channels.server",
        "run",
        "--enable-api",
        # One argument: a token starting with "-" (secrets.token_urlsafe makes one in 64) would
        # otherwise be read as an option, and Rasa would refuse to start.
        f"--auth-token={token}",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "--model",
        "models/current.tar.gz",
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        "credentials.yml",
    ]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_answers(url: str, processes: Sequence[subprocess.Popen], timeout: float = STARTUP_SECONDS) -> None:
    """Until GET `url` answers 200; NotReady as soon as one of the processes stops, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while not answers(url):
        for process in processes:
            if process.poll() is not None:
                raise NotReady(f"{' '.join(map(str, process.args))} stopped (exit code {process.returncode})")
        if time.monotonic() > deadline:
            raise NotReady(f"{url} did not answer within {timeout:.0f} seconds")
        time.sleep(0.5)


def stop(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM, timeout: float = 60) -> None:
    """Ask the process to stop and wait; kill it if it has not stopped in time."""
    if process.poll() is None:
        process.send_signal(how)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start(
    command: list[str],
    *,
    env: dict[str, str],
    ready_url: str,
    output: Path | int | None = subprocess.DEVNULL,
    timeout: float = STARTUP_SECONDS,
) -> subprocess.Popen:
    """Run the command in the project folder and return it once `ready_url` answers. Its output goes to
    a file (whose end NotReady then quotes), to subprocess.DEVNULL, or (None) to this process's own."""
    with contextlib.ExitStack() as files:
        # Appended to: a process started again (the fault tests) adds to its earlier output.
        sink = files.enter_context(open(output, "ab")) if isinstance(output, Path) else output
        errors = None if output is None else subprocess.STDOUT
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=errors)
    try:
        wait_until_answers(ready_url, [process], timeout)
    except NotReady as problem:
        # Asked, not killed: bot.run_local stops the processes it started only when asked.
        stop(process)
        told = output.read_text(encoding="utf-8", errors="replace")[-4000:] if isinstance(output, Path) else ""
        raise NotReady(f"{problem}\n{told}") from None
    return process


@contextlib.contextmanager
def running(
    command: list[str], *, how_to_stop: signal.Signals = signal.SIGTERM, **start_options
) -> Iterator[subprocess.Popen]:
    """A process started as `start` does, stopped when the block ends."""
    process = start(command, **start_options)
    try:
        yield process
    finally:
        stop(process, how_to_stop)
