"""devtools.processes: a process is returned once its URL answers, and one that stops while starting says why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools.processes import RASA_BIN, NotReady, answers, free_port, rasa_command, running, start


def test_a_process_is_returned_once_it_answers_and_stopped_after_the_block() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with running(command, env={}, ready_url=url, timeout=30) as process:
        assert answers(url)
    assert process.poll() is not None and not answers(url)


def test_a_process_that_stops_while_starting_is_reported_with_its_last_words(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('no model here'); raise SystemExit(3)"]
    with pytest.raises(NotReady, match=r"(?s)exit code 3.*no model here"):
        start(command, env={}, ready_url=f"http://127.0.0.1:{free_port()}/", output=tmp_path / "log")


def test_rasa_reads_a_token_that_starts_with_a_dash_as_the_token() -> None:
    # secrets.token_urlsafe starts one token in 64 with "-": Rasa must not take it for an option.
    command = rasa_command(5005, "-starts-with-a-dash")
    read = subprocess.run(
        [
            str(RASA_BIN / "python"),
            "-c",
            "import sys; from rasa.__main__ import create_argument_parser;"
            "print(create_argument_parser().parse_args(sys.argv[1:]).auth_token)",
            *command[command.index("run") :],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert read.stdout.strip() == "-starts-with-a-dash"
