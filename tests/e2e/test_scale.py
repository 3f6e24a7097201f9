"""At scale: two app instances and two Rasa servers (with one action server) on PostgreSQL and
Redis, as docs/deploy.md lays the service out: Rasa's SQL tracker store and Redis lock store shared
by both Rasa servers, the app's database and Redis notifications shared by both app instances."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from websockets.sync.client import connect

from bot import tracker_store
from bot.conversation.models import Event
from bot.database import session_factory, upgrade_database
from bot.handoff.models import Case
from bot.handoff.service import OPEN_STATUSES
from bot.run_local import environment
from tests.conftest import POSTGRES_ADMIN_URL
from tests.running_service import free_port, start_action_server, start_app, start_rasa

APPS = 2
RASA_SERVERS = 2


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> Iterator[dict]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = {"app": f"youthchat_app_{secrets.token_hex(4)}", "rasa": f"youthchat_rasa_{secrets.token_hex(4)}"}
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    app_db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{names['app']}"
    rasa_db = f"postgresql://postgres@127.0.0.1:5432/{names['rasa']}"
    logs = tmp_path_factory.mktemp("scaled")
    actions_port = free_port()
    rasa_ports = [free_port() for _ in range(RASA_SERVERS)]
    app_ports = [free_port() for _ in range(APPS)]
    env, _ = environment(
        {
            **os.environ,
            "ACTIONS_PORT": str(actions_port),
            "BOT_DATABASE_URL": app_db,
            "BOT_REDIS_URL": "redis://127.0.0.1:6379/5",
            "BOT_RASA_TOKEN": "scale-token",
            # The machine is shared: a slow turn here is not an outage, and the test is about answering once.
            "BOT_RASA_TIMEOUT": "30",
            # Every simulated young person comes from 127.0.0.1.
            "BOT_LIMIT_CLIENT_CONVERSATIONS": "100000/minute",
            "BOT_LIMIT_CLIENT_REQUESTS": "100000/minute",
            "RASA_TRACKER_DIALECT": "postgresql",
            "RASA_TRACKER_URL": rasa_db,
            "RASA_LOCK_STORE": "redis",
            "RASA_REDIS_DB": "6",
        }
    )
    env["BOT_RASA_URL"] = " ".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    upgrade_database(app_db)
    processes = []
    try:
        processes.append(start_action_server(env, actions_port, log=logs / "actions.log"))
        # One after the other: the first creates the tracker store's tables.
        for number, port in enumerate(rasa_ports):
            processes.append(start_rasa(env, port, log=logs / f"rasa-{number}.log"))
        for number, port in enumerate(app_ports):
            processes.append(start_app(env, port, log=logs / f"app-{number}.log"))
        apps = [f"http://127.0.0.1:{port}" for port in app_ports]
        for app in apps:
            assert httpx.get(f"{app}/readyz", timeout=10).status_code == 200
        yield {"apps": apps, "app_db": app_db, "rasa_db": rasa_db, "logs": logs}
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=60)
        session_factory(app_db).kw["bind"].dispose()
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_message_sent_to_one_instance_streams_from_the_other(scaled) -> None:
    first, second = scaled["apps"]
    started = httpx.post(f"{first}/api/conversations").json()
    conversation, token = started["conversation_id"], started["token"]
    stream_url = second.replace("http", "ws", 1) + f"/api/conversations/{conversation}/stream"
    with connect(stream_url) as stream:
        stream.send(json.dumps({"token": token, "after": 0}))
        welcome = [json.loads(stream.recv(timeout=10)) for _ in range(2)]
        assert [event["type"] for event in welcome] == ["bot_message", "bot_message"]
        sent = httpx.post(
            f"{first}/api/conversations/{conversation}/messages",
            json={"client_message_id": "one", "text": "are you a real person?"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert sent.status_code == 202
        received = []
        deadline = time.monotonic() + 30
        while not any(e.get("type") == "bot_message" for e in received):
            assert time.monotonic() < deadline, received
            event = json.loads(stream.recv(timeout=30))
            if "seq" in event:
                received.append(event)
    assert received[0] == {**received[0], "type": "user_message", "text": "are you a real person?"}
    assert "chatbot" in received[-1]["text"].lower()

    assert tracker_store.events(conversation, tracker_url=scaled["rasa_db"]), "stored in the shared tracker store"
    # "Delete my chat", on the other instance, deletes it from Rasa's tracker store too.
    deleted = httpx.delete(f"{second}/api/conversations/{conversation}", headers={"Authorization": f"Bearer {token}"})
    assert deleted.status_code == 204
    assert not tracker_store.events(conversation, tracker_url=scaled["rasa_db"])


# Each turn's messages are sent at once, one through each app instance, so both instances
# try to answer the same conversation; the replies are read from the instance not sent to.
EVERYDAY = [
    ["hi"],
    ["are you a real person or a bot?", "what happens to what i tell you?"],
    ["how do i get a picture of me taken off the internet"],
    ["thanks", "can i ask something else"],
    ["thanks bye"],
]
COERCED = [
    ["hiya", "can i ask something"],
    ["he said if i dont send more pics hes gonna send the old ones to my whole school"],
    # A person has the conversation now: the bot stays quiet, the message waits for the worker.
    ["are you still there?"],
]
EVERYDAY_PEOPLE = 16
COERCED_PEOPLE = 8
# Quiet for this long after a reply: the turn is answered (the second message of a turn is
# answered after the first, one Rasa turn later).
SETTLE_SECONDS = 3.0


@dataclass
class YoungPerson:
    number: int
    turns: list[list[str]]
    conversation_id: str = ""
    sent: int = 0
    # Seconds from a turn's messages to the first reply, for the turns the bot answers.
    waits: list[float] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


async def chat(person: YoungPerson, apps: list[str], http: httpx.AsyncClient) -> None:
    reader = apps[(person.number + 1) % len(apps)]
    started = (await http.post(f"{apps[person.number % len(apps)]}/api/conversations")).json()
    person.conversation_id = started["conversation_id"]
    headers = {"Authorization": f"Bearer {started['token']}"}
    events_url = f"/api/conversations/{person.conversation_id}/events"
    after = (await http.get(f"{reader}{events_url}", headers=headers)).json()["events"][-1]["seq"]
    for turn in person.turns:
        with_the_bot = "waiting_for_human" not in person.statuses
        began = time.monotonic()

        async def send(text: str, app: str) -> int:
            person.sent += 1
            response = await http.post(
                f"{app}/api/conversations/{person.conversation_id}/messages",
                json={"client_message_id": f"m{person.sent}", "text": text},
                headers=headers,
            )
            assert response.status_code == 202, response.text
            return response.json()["seq"]

        seqs = await asyncio.gather(*(send(text, apps[(person.number + k) % len(apps)]) for k, text in enumerate(turn)))
        replied = False
        while time.monotonic() - began < 180:
            wait = SETTLE_SECONDS if replied or not with_the_bot else 25
            events = (
                await http.get(f"{reader}{events_url}", params={"after": after, "wait": wait}, headers=headers)
            ).json()["events"]
            if not events and (replied or not with_the_bot):
                break
            for event in events:
                after = event["seq"]
                if event["type"] == "status":
                    person.statuses.append(event["status"])
                answer = event["type"] in ("bot_message", "status") and event["seq"] > max(seqs)
                if answer and with_the_bot and not replied:
                    replied = True
                    person.waits.append(time.monotonic() - began)


async def drive(apps: list[str]) -> list[YoungPerson]:
    people = [YoungPerson(n, EVERYDAY) for n in range(EVERYDAY_PEOPLE)] + [
        YoungPerson(EVERYDAY_PEOPLE + n, COERCED) for n in range(COERCED_PEOPLE)
    ]
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(chat(person, apps, http) for person in people))
    return people


def messages_by_conversation(app_db: str, timeout: float = 60) -> dict[str, list[Event]]:
    """Every young person's message, once none awaits an answer (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while True:
        with session_factory(app_db)() as session:
            messages = session.scalars(select(Event).where(Event.type == "user_message").order_by(Event.seq)).all()
        if not any(message.awaiting_dialogue for message in messages) or time.monotonic() > deadline:
            break
        time.sleep(1)
    grouped: dict[str, list[Event]] = {}
    for message in messages:
        grouped.setdefault(message.conversation_id, []).append(message)
    return grouped


def test_many_young_people_on_two_instances_are_each_answered_once(scaled) -> None:
    started = time.monotonic()
    people = asyncio.run(drive(scaled["apps"]))
    took = time.monotonic() - started
    stored = messages_by_conversation(scaled["app_db"])
    with session_factory(scaled["app_db"])() as session:
        cases = Counter(session.scalars(select(Case.conversation_id)))
        open_cases = Counter(session.scalars(select(Case.conversation_id).where(Case.status.in_(OPEN_STATUSES))))
        set_aside = session.scalar(select(func.count()).select_from(Event).where(Event.dialogue_failures > 0))

    sent = sum(person.sent for person in people)
    lost = sum(1 for messages in stored.values() for message in messages if message.awaiting_dialogue)
    heard_twice = heard_by_rasa = not_heard = 0
    # Conversations whose messages Rasa did not hear in the order they were stored.
    misheard: dict[str, list[str]] = {}
    for person in people:
        texts = [message.payload["text"] for message in stored[person.conversation_id]]
        heard = [
            event["text"]
            for kind, event in tracker_store.events(person.conversation_id, tracker_url=scaled["rasa_db"])
            if kind == "user"
        ]
        heard_by_rasa += len(heard)
        heard_twice += sum((Counter(heard) - Counter(texts)).values())
        # A person has the conversation after the handoff: Rasa hears the messages up to it. One that
        # Rasa could not answer within BOT_RASA_TIMEOUT (a loaded machine) is decided by the safety net.
        meant_for_rasa = texts if person.turns is EVERYDAY else texts[: texts.index(COERCED[1][0]) + 1]
        not_heard += len(meant_for_rasa) - len(heard)
        remaining = iter(meant_for_rasa)
        if not all(any(text == stored for stored in remaining) for text in heard):
            misheard[person.conversation_id] = heard
    waits = sorted(wait for person in people for wait in person.waits)
    print(
        f"\ntwo app instances, two Rasa servers, {len(people)} young people at once in {took:.0f} s: "
        f"{sent} messages sent, {sum(len(m) for m in stored.values())} stored, {lost} lost, "
        f"{heard_by_rasa} heard by Rasa ({not_heard} decided by the safety net instead), {heard_twice} heard twice, "
        f"{len(misheard)} conversations heard out of order, "
        f"{set_aside} set aside; {sum(cases.values())} cases ({COERCED_PEOPLE} coerced), most open in one "
        f"conversation {max(open_cases.values(), default=0)}; first reply p50 {statistics.median(waits):.2f} s, "
        f"p95 {waits[int(0.95 * (len(waits) - 1))]:.2f} s"
    )
    assert sum(len(messages) for messages in stored.values()) == sent
    assert lost == 0 and heard_twice == 0 and set_aside == 0
    assert not misheard, {
        conversation: (heard, transcript(scaled["app_db"], conversation))
        for conversation, (heard, _) in misheard.items()
    }
    assert max(open_cases.values()) == 1
    for person in people:
        coerced = person.turns is COERCED
        assert cases[person.conversation_id] == (1 if coerced else 0), person
        assert person.statuses == (["waiting_for_human"] if coerced else []), person
        answered_turns = len(COERCED) - 1 if coerced else len(EVERYDAY)
        assert len(person.waits) == answered_turns, f"a turn went unanswered: {person}"


def transcript(app_db: str, conversation_id: str) -> list[str]:
    """The conversation as stored, briefly, to show what happened when Rasa did not hear it as it should."""
    with session_factory(app_db)() as session:
        events = session.scalars(select(Event).where(Event.conversation_id == conversation_id).order_by(Event.seq))
        return [f"{e.seq} {e.type} {(e.payload.get('text') or e.payload.get('status') or '')[:50]}" for e in events]
