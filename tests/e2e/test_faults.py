"""Real faults in the running service: Rasa hanging (SIGSTOP), then back."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.database import session_factory
from bot.handoff.models import Case
from devtools.teen import TeenClient
from tests.running_service import RunningService


def child_process(parent: int, command_part: str) -> int:
    """The pid of a process started (directly) by `parent` whose command line holds `command_part`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if ppid == parent and command_part in command:
                return int(entry.name)
    raise LookupError(command_part)


@contextlib.contextmanager
def hanging(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def seconds_to_first_reply(conversation: TeenClient, replies: list[dict]) -> float:
    """From the young person's message being stored to the first reply being stored (the service's own clocks)."""
    message = next(e for e in reversed(conversation.seen) if e["type"] == "user_message")
    reply = next(e for e in replies if e["type"] == "bot_message")
    return (datetime.fromisoformat(reply["at"]) - datetime.fromisoformat(message["at"])).total_seconds()


def test_with_rasa_hanging_danger_still_reaches_a_person_within_10_seconds(service: RunningService) -> None:
    young_person = TeenClient.at(service.base_url)
    with hanging(child_process(service.process.pid, "rasa run")):
        replies = young_person.say("he says he will send my nudes to everyone unless i pay him. im 15")
    young_person.close()
    texts = " ".join(e.get("text", "") for e in replies)
    assert "999" in texts and "0800 1111" in texts
    assert any(e.get("status") == "waiting_for_human" for e in replies)
    assert seconds_to_first_reply(young_person, replies) < 10
    with session_factory(service.database_url)() as session:
        case = session.scalars(select(Case).where(Case.conversation_id == young_person.id)).one()
    assert case.detected_by == "safety_net" and "coercion" in case.criteria


def test_what_rasa_missed_while_hanging_reaches_its_tracker_before_the_next_message(service: RunningService) -> None:
    young_person = TeenClient.at(service.base_url)
    with hanging(child_process(service.process.pid, "rasa run")):
        during = young_person.say("can i ask you something")
    assert "0800 1111" in " ".join(e.get("text", "") for e in during)
    assert not any(e["type"] == "status" for e in during)  # nothing to hand over: the bot keeps the chat
    after = young_person.say("is this chat private")
    young_person.close()
    assert any(e["type"] == "bot_message" for e in after)
    tracker = httpx.get(
        f"{service.rasa_url}/conversations/{young_person.id}/tracker",
        params={"token": service.rasa_token},
        timeout=10,
    ).json()
    said = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert "can i ask you something" in said and "is this chat private" in said
    assert said.index("can i ask you something") < said.index("is this chat private")
