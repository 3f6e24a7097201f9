"""Real faults in the running service: each process hanging (SIGSTOP), killed (SIGKILL) and started
again, and the database away for a few seconds.

In every case the young person gets an answer with Childline and 999, a coercion disclosure reaches the
staff queue as one case, nothing acknowledged is lost or stored twice (here or in Rasa's tracker), and
the conversation goes on normally once the part is back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.content import load_content
from bot.database import session_factory, upgrade_database
from bot.dialogue.rasa import MESSAGE_SEQ
from bot.handoff.models import Case
from bot.run_local import environment, services
from devtools.processes import free_port, start, stop
from devtools.teen import TeenClient
from tests.running_service import PROJECT, ThrowawayPostgres, start_app

COERCION = "he says he will send my nudes to everyone unless i pay him. im 15"
FAILSAFE = load_content(PROJECT / "content").messages("failsafe")
StartConversation = Callable[[str], TeenClient]


@dataclass
class SeparateParts:
    """The action server, Rasa and the app, each started on its own rather than under bot.run_local
    (whose supervisor stops all three when one dies), so that a test can kill one and start it again."""

    env: dict[str, str]
    commands: dict[str, list[str]]
    ready_urls: dict[str, str]
    log: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, part: str) -> None:
        self.processes[part] = start(
            self.commands[part], env=self.env, ready_url=self.ready_urls[part], output=self.log
        )

    def kill(self, part: str) -> None:
        stop(self.processes[part], signal.SIGKILL)

    def pid(self, part: str) -> int:
        return self.processes[part].pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['BOT_PORT']}"

    @property
    def database_url(self) -> str:
        return self.env["BOT_DATABASE_URL"]

    def heard_by_rasa(self, conversation_id: str) -> list[str]:
        """The young person's messages in Rasa's tracker, in order."""
        tracker = httpx.get(
            f"{self.env['BOT_RASA_URL']}/conversations/{conversation_id}/tracker",
            params={"token": self.env["BOT_RASA_TOKEN"]},
            timeout=30,
        ).json()
        return [event["text"] for event in tracker["events"] if event["event"] == "user"]


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> Iterator[SeparateParts]:
    assert (PROJECT / "models" / "current.tar.gz").exists(), "train the model first: make model"
    folder = tmp_path_factory.mktemp("faults")
    database_url = f"sqlite:///{folder / 'app.sqlite3'}"
    upgrade_database(database_url)
    env, ports = environment(
        {
            **os.environ,
            "BOT_PORT": str(free_port()),
            "RASA_PORT": str(free_port()),
            "ACTIONS_PORT": str(free_port()),
            "BOT_DATABASE_URL": database_url,
            "RASA_TRACKER_URL": f"sqlite:///{folder / 'tracker.sqlite3'}",
            "BOT_RASA_TOKEN": "faults-token",
            "BOT_COOKIE_SECURE": "0",
            # A second under the default budget for Rasa: on a loaded test machine the safety net's
            # reading (the sentence encoder) then still fits in the 10 seconds the hanging test checks.
            "BOT_RASA_TIMEOUT": "6",
            # A message left unanswered (the database away) is picked up again within seconds.
            "BOT_SWEEP_SECONDS": "2",
        }
    )
    rasa = f"http://127.0.0.1:{ports['rasa']}"
    separate = SeparateParts(
        env=env,
        commands={service.name: service.command for service in services(ports, env["BOT_RASA_TOKEN"])},
        ready_urls={
            "action server": f"http://127.0.0.1:{ports['actions']}/health",
            "rasa": f"{rasa}/status?token={env['BOT_RASA_TOKEN']}",
            "app": f"http://127.0.0.1:{ports['app']}/readyz",
        },
        log=folder / "parts.log",
    )
    try:
        for part in ("action server", "rasa", "app"):
            separate.start(part)
        yield separate
    finally:
        for process in reversed(separate.processes.values()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)
            stop(process)


@pytest.fixture(autouse=True)
def every_part_running_after_each_test(parts: SeparateParts) -> Iterator[None]:
    """A test that failed before starting again what it killed leaves no fault behind for the next."""
    yield
    for part, process in parts.processes.items():
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
        if process.poll() is not None:
            parts.start(part)


@contextlib.contextmanager
def hanging(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        # A process killed while stopped has nothing to continue.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def conversations() -> Iterator[StartConversation]:
    """Starts young people's conversations with the service at a URL; closes them after the test."""
    started: list[TeenClient] = []

    def start(base_url: str) -> TeenClient:
        started.append(TeenClient.at(base_url))
        return started[-1]

    yield start
    for conversation in started:
        conversation.close()


def texts_of(events: list[dict]) -> str:
    return " ".join(event.get("text", "") for event in events)


def assert_helped(replies: list[dict]) -> None:
    assert "999" in texts_of(replies) and "0800 1111" in texts_of(replies), replies


def assert_bot_answered(replies: list[dict]) -> None:
    """Rasa answered, not the fail-safe."""
    assert any(e["type"] == "bot_message" and e["text"] not in FAILSAFE for e in replies), replies


def assert_stored_once_and_answered_once(conversation: TeenClient, said: list[str]) -> None:
    """Every event in order without a gap; each message stored once; no reply to a message stored twice."""
    events = conversation.http.get(f"/api/conversations/{conversation.id}/events", headers=conversation.headers)
    events = events.json()["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["text"] for e in events if e["type"] == "user_message"] == said
    answers: list[list[str]] = []
    for event in events:
        if event["type"] == "user_message":
            answers.append([])
        elif answers:
            answers[-1].append(event.get("text") or event.get("status"))
    for answer in answers:
        assert answer and len(answer) == len(set(answer)), f"a message answered twice or not at all: {answers}"


def one_case(parts: SeparateParts, conversation: TeenClient, database_url: str | None = None) -> Case:
    with session_factory(database_url or parts.database_url)() as session:
        return session.scalars(select(Case).where(Case.conversation_id == conversation.id)).one()


def assert_no_words_in_logs(parts: SeparateParts, said: list[str]) -> None:
    written = parts.log.read_text(encoding="utf-8", errors="replace")
    for words in said:
        assert words not in written, f"{words!r} is in the logs"


def wait_until_rasa_has_heard(parts: SeparateParts, conversation: TeenClient, text: str) -> None:
    """Until Rasa has finished its turn over this message (its tracker is saved at the end of a turn)."""
    deadline = time.monotonic() + 30
    while text not in parts.heard_by_rasa(conversation.id):
        assert time.monotonic() < deadline, "Rasa did not finish its turn"
        time.sleep(0.3)


def seconds_to_first_reply(conversation: TeenClient, replies: list[dict]) -> float:
    """From the young person's message being stored to the first reply being stored (the service's own clocks)."""
    message = next(e for e in reversed(conversation.seen) if e["type"] == "user_message")
    reply = next(e for e in replies if e["type"] == "bot_message")
    return (datetime.fromisoformat(reply["at"]) - datetime.fromisoformat(message["at"])).total_seconds()


def test_with_rasa_hanging_danger_reaches_the_queue_without_waiting_for_rasa(
    parts: SeparateParts, conversations: StartConversation
) -> None:
    young_person = conversations(parts.base_url)
    with hanging(parts.pid("rasa")):
        replies = young_person.say(COERCION)
    assert_helped(replies)
    assert any(e.get("status") == "waiting_for_human" for e in replies)
    assert seconds_to_first_reply(young_person, replies) < 10
    case = one_case(parts, young_person)
    assert case.detected_by == "safety_net" and "coercion" in case.criteria
    # Opened by the safety net's reading beside Rasa's, before the dialogue's budget (6 s) ran out.
    message = next(e for e in reversed(young_person.seen) if e["type"] == "user_message")
    assert (case.created_at - datetime.fromisoformat(message["at"])).total_seconds() < 6
    # Rasa, running again, has the message at most once, and its log none of the words.
    assert parts.heard_by_rasa(young_person.id).count(COERCION) <= 1
    assert_no_words_in_logs(parts, [COERCION])


def test_what_rasa_missed_while_hanging_reaches_its_tracker_once_before_the_next_message(
    parts: SeparateParts, conversations: StartConversation
) -> None:
    young_person = conversations(parts.base_url)
    with hanging(parts.pid("rasa")):
        during = young_person.say("can i ask you something")
    assert_helped(during)
    assert not any(e["type"] == "status" for e in during)  # nothing to hand over: the bot keeps the chat
    after = young_person.say("is this chat private")
    assert_bot_answered(after)
    said = ["can i ask you something", "is this chat private"]
    assert parts.heard_by_rasa(young_person.id) == said
    assert_stored_once_and_answered_once(young_person, said)
    assert_no_words_in_logs(parts, said)


def test_a_message_rasa_finished_after_the_timeout_is_not_told_to_it_again(
    parts: SeparateParts, conversations: StartConversation
) -> None:
    """The known gap: the app gave up on a slow Rasa, but Rasa finished the turn. Rasa usually drops
    a turn whose caller has left (Sanic cancels it), so the test finishes it for Rasa, as the app sent it."""
    young_person = conversations(parts.base_url)
    with hanging(parts.pid("rasa")):
        seq = young_person.acknowledged("what happens if i report it")
        assert_helped(young_person.replies_to(seq))
    finished_late = httpx.post(
        f"{parts.env['BOT_RASA_URL']}/webhooks/rest/webhook",
        json={"sender": young_person.id, "message": "what happens if i report it", "metadata": {MESSAGE_SEQ: seq}},
        timeout=30,
    )
    assert finished_late.status_code == 200
    assert_bot_answered(young_person.say("is this chat private"))
    said = ["what happens if i report it", "is this chat private"]
    assert parts.heard_by_rasa(young_person.id) == said


def test_rasa_killed_mid_message_then_started_again(parts: SeparateParts, conversations: StartConversation) -> None:
    young_person, at_risk = conversations(parts.base_url), conversations(parts.base_url)
    assert_bot_answered(young_person.say("hello there"))
    # Killed while the app waits for its answer to a message.
    with hanging(parts.pid("rasa")):
        seq = young_person.acknowledged("can i ask you something")
        time.sleep(1)  # the app's request reaches the stopped Rasa
        parts.kill("rasa")
    assert_helped(young_person.replies_to(seq))
    danger = at_risk.say(COERCION)
    assert_helped(danger)
    assert any(e.get("status") == "waiting_for_human" for e in danger)
    assert_helped(young_person.say("are you still there"))

    parts.start("rasa")
    assert_bot_answered(young_person.say("is this chat private"))
    said = ["hello there", "can i ask you something", "are you still there", "is this chat private"]
    assert parts.heard_by_rasa(young_person.id) == said
    assert_stored_once_and_answered_once(young_person, said)
    assert_stored_once_and_answered_once(at_risk, [COERCION])
    case = one_case(parts, at_risk)
    assert case.detected_by == "safety_net" and "coercion" in case.criteria
    assert_no_words_in_logs(parts, said)


def test_the_action_server_killed_mid_message_then_started_again(
    parts: SeparateParts, conversations: StartConversation
) -> None:
    young_person, at_risk = conversations(parts.base_url), conversations(parts.base_url)
    assert_bot_answered(young_person.say("hello there"))
    with hanging(parts.pid("action server")):
        seq = young_person.acknowledged("can i ask you something")
        time.sleep(1)  # Rasa's call to the action server reaches it, stopped
        parts.kill("action server")
    assert_helped(young_person.replies_to(seq))
    danger = at_risk.say(COERCION)
    assert_helped(danger)
    assert any(e.get("status") == "waiting_for_human" for e in danger)

    parts.start("action server")
    assert_bot_answered(young_person.say("is this chat private"))
    said = ["hello there", "can i ask you something", "is this chat private"]
    assert parts.heard_by_rasa(young_person.id) == said
    assert_stored_once_and_answered_once(young_person, said)
    assert_stored_once_and_answered_once(at_risk, [COERCION])
    assert "coercion" in one_case(parts, at_risk).criteria
    assert_no_words_in_logs(parts, said)


def test_the_app_killed_between_acknowledging_and_answering_answers_once_when_started_again(
    parts: SeparateParts, conversations: StartConversation
) -> None:
    young_person, at_risk = conversations(parts.base_url), conversations(parts.base_url)
    assert_bot_answered(young_person.say("hello there"))
    # Both messages acknowledged and asked of Rasa; Rasa answers them with the app stopped, and the
    # app is killed before it could store a word of the answers.
    with hanging(parts.pid("rasa")):
        seq = young_person.acknowledged("can i ask you something")
        at_risk_seq = at_risk.acknowledged(COERCION)
        time.sleep(1)  # the app's requests reach the stopped Rasa
        os.kill(parts.pid("app"), signal.SIGSTOP)
    wait_until_rasa_has_heard(parts, young_person, "can i ask you something")
    wait_until_rasa_has_heard(parts, at_risk, COERCION)
    parts.kill("app")
    parts.start("app")
    assert_bot_answered(young_person.replies_to(seq))
    danger = at_risk.replies_to(at_risk_seq)
    assert_helped(danger)
    assert any(e.get("status") == "waiting_for_human" for e in danger)
    assert_bot_answered(young_person.say("is this chat private"))
    said = ["hello there", "can i ask you something", "is this chat private"]
    assert parts.heard_by_rasa(young_person.id) == said
    assert parts.heard_by_rasa(at_risk.id) == [COERCION]
    assert_stored_once_and_answered_once(young_person, said)
    assert_stored_once_and_answered_once(at_risk, [COERCION])
    assert "coercion" in one_case(parts, at_risk).criteria
    assert_no_words_in_logs(parts, said)


@pytest.fixture
def app_on_postgres(parts: SeparateParts) -> Iterator[tuple[str, ThrowawayPostgres]]:
    """One more app instance, beside the parts' Rasa, on a PostgreSQL server the test may stop."""
    postgres = ThrowawayPostgres()
    app = None
    try:
        postgres.start()
        upgrade_database(postgres.url)
        port = free_port()
        app = start_app({**parts.env, "BOT_DATABASE_URL": postgres.url}, port, log=parts.log)
        yield f"http://127.0.0.1:{port}", postgres
    finally:
        if app:
            stop(app)
        postgres.remove()


def test_the_database_away_for_a_few_seconds_loses_and_repeats_nothing(
    parts: SeparateParts, app_on_postgres: tuple[str, ThrowawayPostgres], conversations: StartConversation
) -> None:
    base_url, postgres = app_on_postgres
    young_person, at_risk = conversations(base_url), conversations(base_url)
    assert_bot_answered(young_person.say("hello there"))
    # Both messages acknowledged; Rasa answers them once the database has gone.
    with hanging(parts.pid("rasa")):
        seq = young_person.acknowledged("can i ask you something")
        at_risk_seq = at_risk.acknowledged(COERCION)
        time.sleep(1)  # the app's requests reach the stopped Rasa
        postgres.stop()
    wait_until_rasa_has_heard(parts, young_person, "can i ask you something")
    wait_until_rasa_has_heard(parts, at_risk, COERCION)

    # While it is away, every answer the young person gets gives the numbers, and a message is refused
    # (not acknowledged) so that the widget sends it again.
    refused = young_person.http.post(
        f"/api/conversations/{young_person.id}/messages",
        json={"client_message_id": "while-away", "text": "are you still there"},
        headers=young_person.headers,
    )
    polled = young_person.http.get(f"/api/conversations/{young_person.id}/events", headers=young_person.headers)
    for answer in (refused, polled):
        assert answer.status_code == 503
        assert "999" in answer.json()["message"] and "0800 1111" in answer.json()["message"]
        assert "Traceback" not in answer.text

    postgres.start()
    assert_bot_answered(young_person.replies_to(seq))
    danger = at_risk.replies_to(at_risk_seq)
    assert_helped(danger)
    assert any(e.get("status") == "waiting_for_human" for e in danger)
    again = young_person.http.post(
        f"/api/conversations/{young_person.id}/messages",
        json={"client_message_id": "while-away", "text": "are you still there"},
        headers=young_person.headers,
    )
    assert again.status_code == 202
    young_person.replies_to(again.json()["seq"])
    said = ["hello there", "can i ask you something", "are you still there"]
    assert parts.heard_by_rasa(young_person.id) == said
    assert parts.heard_by_rasa(at_risk.id) == [COERCION]
    assert_stored_once_and_answered_once(young_person, said)
    assert_stored_once_and_answered_once(at_risk, [COERCION])
    assert "coercion" in one_case(parts, at_risk, postgres.url).criteria
    assert_no_words_in_logs(parts, said)
