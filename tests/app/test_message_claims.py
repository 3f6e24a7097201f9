"""Several Rasa servers behind the app: a conversation moves on when its own cannot be reached."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from bot.app import create_app
from tests.app.conftest import CLOSED_PORT_URL, Chat, make_settings
from tests.app.test_failsafe import StandInRasa


def heard(rasa: StandInRasa) -> Counter[tuple[str, str]]:
    return Counter((body["sender"], body["message"]) for path, body in rasa.requests if path == "webhook")


def test_a_conversation_moves_to_the_next_rasa_server_when_its_own_cannot_be_reached(sqlite_url: str) -> None:
    with StandInRasa() as rasa:
        settings = make_settings(sqlite_url, rasa_urls=(CLOSED_PORT_URL, rasa.url))
        with TestClient(create_app(settings)) as client:
            chats = [Chat(client) for _ in range(4)]
            for chat in chats:
                chat.send("hello")
            for chat in chats:
                chat.wait_for(lambda e: e.get("text") == "Here is what the bot says.")
    assert len(heard(rasa)) == 4
