"""`make test` on a Debian machine with no PostgreSQL or Redis running: the wrapper starts
throwaway servers that answer as the tests expect, and removes them afterwards."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from devtools.processes import free_port

WRAPPER = Path(__file__).resolve().parents[2] / "scripts" / "with-test-servers"


def test_throwaway_servers_answer_for_the_command_and_stop_after_it() -> None:
    pg_port, redis_port = free_port(), free_port()
    probe = f"psql -h 127.0.0.1 -p {pg_port} -U postgres -d test -tAc 'select 41 + 1' && redis-cli -p {redis_port} ping"
    env = {**os.environ, "TEST_POSTGRES_PORT": str(pg_port), "TEST_REDIS_PORT": str(redis_port)}

    result = subprocess.run([WRAPPER, "bash", "-c", probe], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["42", "PONG"]
    after = subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True, text=True)
    assert "PONG" not in after.stdout


def test_the_command_s_failure_is_the_wrapper_s_failure() -> None:
    env = {**os.environ, "TEST_POSTGRES_PORT": str(free_port()), "TEST_REDIS_PORT": "6379"}

    result = subprocess.run([WRAPPER, "bash", "-c", "exit 3"], env=env, timeout=120)

    assert result.returncode == 3
