"""Use the running service, or start it (as `make run` does) for the length of a script."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from devtools.processes import RUN_LOCAL, answers, running


def default_base_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('BOT_PORT', '8000')}"


@contextlib.contextmanager
def running_service(base_url: str, log: Path | None = None) -> Iterator[subprocess.Popen | None]:
    """The service's supervisor process (bot.run_local) when started here; None when it was already running.

    Its three processes write to `log` when given (a benchmark's table stays readable), else to this
    terminal, where a failure to start explains itself."""
    if answers(f"{base_url}/readyz"):
        yield None
        return
    # The script is the service's only client, replaying hundreds of young people from one address:
    # the per-client limits meant for a school's shared address would refuse it (set them to override).
    env = {
        "BOT_LIMIT_CLIENT_CONVERSATIONS": "100000/minute",
        "BOT_LIMIT_CLIENT_REQUESTS": "100000/minute",
        **os.environ,
    }
    with running(RUN_LOCAL, env=env, ready_url=f"{base_url}/readyz", output=log, how_to_stop=signal.SIGINT) as process:
        yield process
