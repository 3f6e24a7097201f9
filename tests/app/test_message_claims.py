"""Several app instances on one database: each message is answered once, in order, whichever
instance stored it, and a crashed instance's conversations are taken over when its claim runs out.

Instances share PostgreSQL in every layout with more than one (docs/deploy.md); SQLite serves one
instance on one machine, so the tests of instances at once run on PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.content import load_content
from bot.conversation import flows
from bot.conversation import service as conversations
from bot.conversation.models import Conversation, Event
from bot.database import session_factory, utcnow
from devtools.teen import TeenClient
from tests.app.conftest import CLOSED_PORT_URL, make_settings
from tests.app.test_failsafe import StandInRasa

# Several instances share PostgreSQL, never SQLite.
on_shared_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def wait_until_answered(database_url: str, timeout: float = 60) -> list[Event]:
    """Every young person's message, once none awaits the dialogue any more."""
    deadline = time.monotonic() + timeout
    while True:
        with session_factory(database_url)() as session:
            messages = session.scalars(select(Event).where(Event.type == "user_message").order_by(Event.id)).all()
        if messages and not any(message.awaiting_dialogue for message in messages):
            return messages
        assert time.monotonic() < deadline, "messages left unanswered"
        time.sleep(0.2)


def heard(rasa: StandInRasa) -> Counter[tuple[str, str]]:
    return Counter((body["sender"], body["message"]) for path, body in rasa.requests if path == "webhook")


@on_shared_postgresql
def test_two_instances_answer_each_message_once_and_in_order(database_url: str) -> None:
    with StandInRasa() as rasa:
        # Rasa takes a moment over each message, so both instances are busy with the same conversations.
        rasa.hang_seconds = 0.2
        settings = make_settings(database_url, rasa_urls=(rasa.url,))
        with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
            chats = [TeenClient(first) for _ in range(6)]
            for round_ in range(3):
                for chat in chats:
                    # One message through each instance, at once: both try to answer the conversation.
                    for client in (first, second):
                        chat.http = client
                        assert chat.send(f"{chat.id} {round_} {chat.sent}").status_code == 202
            messages = wait_until_answered(database_url)
    assert len(messages) == 6 * 3 * 2
    times = heard(rasa)
    assert set(times.values()) == {1}, "every message reaches Rasa exactly once"
    assert set(times) == {(m.conversation_id, m.payload["text"]) for m in messages}
    for chat in chats:
        order = [message for sender, message in times if sender == chat.id]
        assert order == sorted(order, key=lambda text: int(text.rsplit(" ", 1)[1])), "answered in order"
        replies = [e for e in chat.events() if e.get("text") == "Here is what the bot says."]
        assert len(replies) == 6


@on_shared_postgresql
def test_instances_starting_together_recover_each_unanswered_message_once(database_url: str) -> None:
    content = load_content(make_settings(database_url).content_dir)
    # Messages stored and acknowledged by instances that then stopped before answering them.
    with session_factory(database_url).begin() as session:
        for number in range(8):
            conversation_id, token = flows.start(content=content, session=session)
            for turn in range(2):
                flows.receive_message(
                    conversation_id=conversation_id,
                    token=token,
                    client_message_id=f"m{turn}",
                    text=f"left {number} {turn}",
                    payload=None,
                    content=content,
                    session=session,
                )
    with StandInRasa() as rasa:
        rasa.hang_seconds = 1.0
        settings = make_settings(database_url, rasa_urls=(rasa.url,))
        with TestClient(create_app(settings)), TestClient(create_app(settings)):
            messages = wait_until_answered(database_url)
    assert len(messages) == 16
    assert set(heard(rasa).values()) == {1} and len(heard(rasa)) == 16


def test_a_crashed_instances_conversation_waits_for_its_claim_to_run_out(database_url: str) -> None:
    with StandInRasa() as rasa:
        settings = make_settings(database_url, rasa_urls=(rasa.url,), sweep_seconds=0.5)
        with TestClient(create_app(settings)) as client:
            chat = TeenClient(client)
            # An instance that claimed the conversation and crashed: its lease still runs for 3 seconds.
            with session_factory(database_url).begin() as session:
                assert conversations.claim_dialogue(
                    chat.id, worker="crashed", until=utcnow() + timedelta(seconds=3), session=session
                )
            chat.send("anyone there?")
            time.sleep(1.5)
            assert not heard(rasa), "nobody answers a conversation another instance holds a live claim on"
            messages = wait_until_answered(database_url, timeout=15)
    assert heard(rasa) == {(chat.id, "anyone there?"): 1}
    assert [message.payload["text"] for message in messages] == ["anyone there?"]
    with session_factory(database_url)() as session:
        # Given up once nothing awaited an answer.
        assert session.get(Conversation, chat.id).dialogue_claimed_by is None


def test_a_conversation_moves_to_the_next_rasa_server_when_its_own_cannot_be_reached(sqlite_url: str) -> None:
    with StandInRasa() as rasa:
        settings = make_settings(sqlite_url, rasa_urls=(CLOSED_PORT_URL, rasa.url))
        with TestClient(create_app(settings)) as client:
            chats = [TeenClient(client) for _ in range(4)]
            for chat in chats:
                chat.send("hello")
            for chat in chats:
                chat.wait_for(lambda e: e.get("text") == "Here is what the bot says.")
    assert len(heard(rasa)) == 4
