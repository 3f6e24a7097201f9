"""Use the running service, or start it (as `make run` does) for the length of a script."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT

START_TIMEOUT_SECONDS = 300


def default_base_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('BOT_PORT', '8000')}"


def ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running_service(base_url: str, log: Path | None = None) -> Iterator[subprocess.Popen | None]:
    """The service's supervisor process (bot.run_local) when started here; None when it was already running.

    Its three processes write to ``log`` when given (a benchmark's table stays readable), else to this terminal."""
    if ready(base_url):
        yield None
        return
    # The script is the service's only client, replaying hundreds of young people from one address:
    # the per-client limits meant for a school's shared address would refuse it (set them to override).
    env = {
        "BOT_LIMIT_CLIENT_CONVERSATIONS": "100000/minute",
        "BOT_LIMIT_CLIENT_REQUESTS": "100000/minute",
        **os.environ,
    }
    output = open(log, "ab") if log else None  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.run_local"], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start; see {log or 'its output above'}")
            time.sleep(1)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        if output:
            output.close()
