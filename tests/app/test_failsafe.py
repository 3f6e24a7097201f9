"""Fail safe: whatever is down, the young person gets help and danger reaches a person."""

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.conversation.models import Event
from bot.database import session_factory
from bot.handoff.models import Case
from tests.app.conftest import Chat, make_settings


def test_when_rasa_is_down_the_reply_gives_childline_and_999(chat: Chat) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("hello?")
    events = chat.wait_for(lambda e: e["type"] == "bot_message", after=last)
    replies = " ".join(e["text"] for e in events if e["type"] == "bot_message")
    assert "0800 1111" in replies and "999" in replies


def test_when_rasa_is_down_clear_danger_still_reaches_a_person(chat: Chat, database_url: str) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("a man i met online says hell send my nudes to my family unless i pay him. im 14")
    events = chat.wait_for(lambda e: e["type"] == "status", after=last)
    assert {"type": "status", "status": "waiting_for_human"}.items() <= next(
        e for e in events if e["type"] == "status"
    ).items()
    with session_factory(database_url)() as session:
        [case] = session.scalars(select(Case).where(Case.conversation_id == chat.id)).all()
    assert case.level == "high" and case.status == "queued"
    assert "coercion" in case.criteria
    assert case.detected_by == "safety_net"
    assert case.age_band == "13_15"
    assert any("unless i pay" in cue["quote"] for cue in case.cues)


def test_self_harm_while_rasa_is_down_is_critical(chat: Chat, database_url: str) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("everyone has seen my pic and i want to kill myself")
    events = chat.wait_for(lambda e: e["type"] == "status", after=last)
    texts = " ".join(e.get("text", "") for e in events)
    assert "999" in texts and "85258" in texts
    with session_factory(database_url)() as session:
        assert session.scalars(select(Case.level).where(Case.conversation_id == chat.id)).one() == "critical"


def test_a_case_already_open_is_raised_not_duplicated(chat: Chat, database_url: str) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("hes blackmailing me for money")
    seen = chat.wait_for(lambda e: e["type"] == "status", after=last)
    chat.send("i cant do this anymore i want to end my life")
    chat.wait_for(lambda e: e["type"] == "user_message" and "end my life" in e["text"], after=seen[-1]["seq"])
    import time

    deadline = time.monotonic() + 10
    while True:
        with session_factory(database_url)() as session:
            cases = session.scalars(select(Case).where(Case.conversation_id == chat.id)).all()
            handled = session.scalars(select(Event.awaiting_dialogue).where(Event.conversation_id == chat.id)).all()
        if not any(handled) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(cases) == 1
    assert cases[0].level == "critical"


def test_when_the_database_is_down_the_answer_still_gives_the_numbers() -> None:
    settings = make_settings("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/api/conversations")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "unavailable"
    assert "0800 1111" in body["message"] and "999" in body["message"]
    assert "Traceback" not in response.text


def test_a_message_stored_before_a_restart_is_answered_after_it(sqlite_url: str) -> None:
    with TestClient(create_app(make_settings(sqlite_url))) as client:
        chat = Chat(client)
        last = chat.events()[-1]["seq"]
    # Simulate a crash between storing and answering: mark the message as not yet handled.
    with session_factory(sqlite_url).begin() as session:
        session.add(
            Event(
                conversation_id=chat.id,
                seq=last + 1,
                type="user_message",
                payload={"text": "hi"},
                client_message_id="lost",
                awaiting_dialogue=True,
            )
        )
        from bot.conversation.models import Conversation

        session.get(Conversation, chat.id).last_seq = last + 1
    with TestClient(create_app(make_settings(sqlite_url))) as client:
        chat.client = client
        events = chat.wait_for(lambda e: e["type"] == "bot_message", after=last + 1)
    assert "0800 1111" in " ".join(e["text"] for e in events)


class RasaWithoutActions:
    """A stand-in for a Rasa server whose action server is down: it still answers
    with its own responses, but no action runs, so no safety decision comes back."""

    def __init__(self) -> None:
        import socket
        import threading

        import uvicorn
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def webhook(request):
            sender = (await request.json())["sender"]
            return JSONResponse([{"recipient_id": sender, "text": "Here is what the bot says."}])

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/webhooks/rest/webhook", webhook, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_when_the_action_server_is_down_the_safety_net_still_hands_over(sqlite_url: str) -> None:
    with (
        RasaWithoutActions() as rasa_url,
        TestClient(create_app(make_settings(sqlite_url, rasa_url=rasa_url))) as client,
    ):
        chat = Chat(client)
        last = chat.events()[-1]["seq"]
        chat.send("how are you")
        ordinary = chat.wait_for(lambda e: e["type"] == "bot_message", after=last)
        assert [e["text"] for e in ordinary if e["type"] == "bot_message"] == ["Here is what the bot says."]

        chat.send("he says hell send my nudes to my school unless i send him more")
        danger = chat.wait_for(lambda e: e["type"] == "status", after=ordinary[-1]["seq"])
    assert any(e.get("status") == "waiting_for_human" for e in danger)
    with session_factory(sqlite_url)() as session:
        case = session.scalars(select(Case).where(Case.conversation_id == chat.id)).one()
    assert case.detected_by == "safety_net" and "coercion" in case.criteria
