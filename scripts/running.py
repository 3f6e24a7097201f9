"""Use the running service, or start it (as `make run` does) for the length of a script."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

from devtools.processes import RUN_LOCAL, answers, running


def default_base_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('BOT_PORT', '8000')}"


@contextlib.contextmanager
def running_service(base_url: str) -> Iterator[None]:
    if answers(f"{base_url}/readyz"):
        yield
        return
    # The script is the service's only client, replaying hundreds of young people from one address:
    # the per-client limits meant for a school's shared address would refuse it (set them to override).
    env = {
        "BOT_LIMIT_CLIENT_CONVERSATIONS": "100000/minute",
        "BOT_LIMIT_CLIENT_REQUESTS": "100000/minute",
        **os.environ,
    }
    # The service's output goes to the terminal, where a failure to start explains itself.
    with running(RUN_LOCAL, env=env, ready_url=f"{base_url}/readyz", output=None, how_to_stop=signal.SIGINT):
        yield
