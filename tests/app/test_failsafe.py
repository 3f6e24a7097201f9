"""Fail safe: whatever is down, the young person gets help and danger reaches a person."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import create_app
from bot.conversation.models import Conversation, Event
from bot.database import session_factory, utcnow
from bot.dialogue.flows import NOT_ASKED, record_turn
from bot.dialogue.safety_net import SafetyNet
from bot.handoff.models import Case
from devtools.teen import TeenClient
from safeguarding.assessment import Decision
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker


def test_when_rasa_is_down_the_reply_gives_childline_and_999(chat: TeenClient) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("hello?")
    events = chat.wait_for(lambda e: e["type"] == "bot_message", after=last)
    replies = " ".join(e["text"] for e in events if e["type"] == "bot_message")
    assert "0800 1111" in replies and "999" in replies


def test_when_rasa_is_down_clear_danger_still_reaches_a_person(chat: TeenClient, database_url: str) -> None:
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


def test_self_harm_while_rasa_is_down_is_critical(chat: TeenClient, database_url: str) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("everyone has seen my pic and i want to kill myself")
    events = chat.wait_for(lambda e: e["type"] == "status", after=last)
    texts = " ".join(e.get("text", "") for e in events)
    assert "999" in texts and "85258" in texts
    with session_factory(database_url)() as session:
        assert session.scalars(select(Case.level).where(Case.conversation_id == chat.id)).one() == "critical"


def test_a_case_already_open_is_raised_not_duplicated(chat: TeenClient, database_url: str) -> None:
    last = chat.events()[-1]["seq"]
    chat.send("hes blackmailing me for money")
    seen = chat.wait_for(lambda e: e["type"] == "status", after=last)
    chat.send("i cant do this anymore i want to end my life")
    chat.wait_for(lambda e: e["type"] == "user_message" and "end my life" in e["text"], after=seen[-1]["seq"])
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
        chat = TeenClient(client)
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
        session.get(Conversation, chat.id).last_seq = last + 1
    with TestClient(create_app(make_settings(sqlite_url))) as client:
        chat.http = client
        events = chat.wait_for(lambda e: e["type"] == "bot_message", after=last + 1)
    assert "0800 1111" in " ".join(e["text"] for e in events)


class StandInRasa:
    """A stand-in for a Rasa server on a real port, answering as a test needs: whose action
    server is down (text but no safety decision), that hangs, or that is down then back."""

    def __init__(self) -> None:
        self.down = False
        self.hang_seconds = 0.0
        # Every request, in order: (path, JSON body).
        self.requests: list[tuple[str, object]] = []

        async def webhook(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(("webhook", body))
            if self.down:
                return JSONResponse({"error": "down"}, status_code=500)
            await asyncio.sleep(self.hang_seconds)
            return JSONResponse([{"recipient_id": body["sender"], "text": "Here is what the bot says."}])

        async def parse(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(("parse", body))
            if self.down:
                return JSONResponse({"error": "down"}, status_code=500)
            return JSONResponse(
                {"text": body["text"], "intent": {"name": "chitchat", "confidence": 0.9}, "entities": []}
            )

        async def tracker_events(request: Request) -> JSONResponse:
            self.requests.append(("tracker_events", await request.json()))
            if self.down:
                return JSONResponse({"error": "down"}, status_code=500)
            return JSONResponse({})

        async def tracker(_request: Request) -> JSONResponse:
            self.requests.append(("tracker", None))
            if self.down:
                return JSONResponse({"error": "down"}, status_code=500)
            return JSONResponse({"events": []})

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/webhooks/rest/webhook", webhook, methods=["POST"]),
                Route("/model/parse", parse, methods=["POST"]),
                Route("/conversations/{sender}/tracker/events", tracker_events, methods=["POST"]),
                Route("/conversations/{sender}/tracker", tracker, methods=["GET"]),
            ]
        )
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "StandInRasa":
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_when_the_action_server_is_down_the_safety_net_still_hands_over(sqlite_url: str) -> None:
    with (
        StandInRasa() as rasa,
        TestClient(create_app(make_settings(sqlite_url, rasa_urls=(rasa.url,)))) as client,
    ):
        chat = TeenClient(client)
        last = chat.events()[-1]["seq"]
        chat.send("how are you")
        ordinary = chat.wait_for(lambda e: e["type"] == "bot_message", after=last)
        # The bot's words, then the numbers: nothing checked the turn for danger.
        failsafe = client.app.state.services.content.messages("failsafe")
        assert [e["text"] for e in ordinary if e["type"] == "bot_message"] == ["Here is what the bot says.", *failsafe]

        chat.send("he says hell send my nudes to my school unless i send him more")
        danger = chat.wait_for(lambda e: e["type"] == "status", after=ordinary[-1]["seq"])
    assert any(e.get("status") == "waiting_for_human" for e in danger)
    with session_factory(sqlite_url)() as session:
        case = session.scalars(select(Case).where(Case.conversation_id == chat.id)).one()
    assert case.detected_by == "safety_net" and "coercion" in case.criteria


def test_closing_a_case_hands_the_conversation_back_to_rasa(sqlite_url: str) -> None:
    with StandInRasa() as rasa:
        worker = Worker(create_app(make_settings(sqlite_url, rasa_urls=(rasa.url,))), sqlite_url, "hand-back")
        # One client for both sides: the app's background work and its Rasa client live on its event loop.
        with worker.http:
            worker.sign_in()
            chat = TeenClient(worker.http)
            last = chat.events()[-1]["seq"]
            chat.send("he says hell send my nudes to my school unless i send him more")
            chat.wait_for(lambda e: e["type"] == "status", after=last)
            [case] = worker.state()["queue"]
            assert worker.api("POST", f"/console/api/cases/{case['id']}/claim").status_code == 200
            closed = worker.api("POST", f"/console/api/cases/{case['id']}/close", {"outcome": "no_further_action"})
            assert closed.status_code == 200
    assert rasa.requests[-1] == ("tracker_events", [{"event": "resume"}])


@contextlib.contextmanager
def chat_with_a_hanging_rasa(sqlite_url: str, budget_seconds: float) -> Iterator[TeenClient]:
    """A young person's chat, with a Rasa that never answers within the app's budget for it."""
    with StandInRasa() as rasa:
        rasa.hang_seconds = 60
        settings = make_settings(sqlite_url, rasa_urls=(rasa.url,), rasa_timeout_seconds=budget_seconds)
        try:
            with TestClient(create_app(settings)) as client:
                yield TeenClient(client)
        finally:
            rasa.hang_seconds = 0


def test_a_hanging_rasa_still_gets_the_young_person_an_answer_within_10_seconds(sqlite_url: str) -> None:
    """The default budget for Rasa (7 s), then the fail-safe reply."""
    with chat_with_a_hanging_rasa(sqlite_url, budget_seconds=7.0) as chat:
        last = chat.events()[-1]["seq"]
        started = time.monotonic()
        chat.send("can i ask you something about pics")
        events = chat.wait_for(lambda e: "0800 1111" in e.get("text", ""), after=last, timeout=12)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert "999" in " ".join(e.get("text", "") for e in events)


def test_danger_reaches_the_queue_while_rasa_is_still_reading(sqlite_url: str) -> None:
    """The safety net reads beside Rasa: a case opens without waiting for Rasa's answer or its budget."""
    budget_seconds = 30.0
    with chat_with_a_hanging_rasa(sqlite_url, budget_seconds) as chat:
        last = chat.events()[-1]["seq"]
        started = time.monotonic()
        chat.send("he says he will post my pics unless i pay him")
        events = chat.wait_for(lambda e: e.get("status") == "waiting_for_human", after=last, timeout=12)
        elapsed = time.monotonic() - started
        with session_factory(sqlite_url)() as session:
            case = session.scalars(select(Case).where(Case.conversation_id == chat.id)).one()
    assert elapsed < budget_seconds / 2
    assert case.detected_by == "safety_net" and "coercion" in case.criteria
    texts = " ".join(e.get("text", "") for e in events)
    assert "999" in texts and "0800 1111" in texts


class SafetyNetThatFailsOn(SafetyNet):
    """The real safety net, failing whenever the latest message holds a word (a poison message)."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    def assess(self, texts, *, since=0):
        if self.poison in texts[-1]:
            raise RuntimeError("the safety net failed")
        return super().assess(texts, since=since)


def test_a_poison_message_is_set_aside_with_the_failsafe_reply_and_a_case(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    app.state.services.dialogue.safety_net = SafetyNetThatFailsOn("xyzzy")
    with TestClient(app) as client:
        chat = TeenClient(client)
        last = chat.events()[-1]["seq"]
        chat.send("xyzzy")
        events = chat.wait_for(lambda e: e["type"] == "status", after=last)
        texts = " ".join(e.get("text", "") for e in events)
        assert "999" in texts and "0800 1111" in texts
        # The conversation goes on: the next message is read (the case waits for a worker, so the bot is quiet).
        chat.send("hello again")
        deadline = time.monotonic() + 10
        while True:
            with session_factory(sqlite_url)() as session:
                messages = session.scalars(
                    select(Event).where(Event.conversation_id == chat.id, Event.type == "user_message")
                ).all()
            if not any(m.awaiting_dialogue for m in messages) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    poison, after = messages
    with session_factory(sqlite_url)() as session:
        case = session.scalars(select(Case).where(Case.conversation_id == chat.id)).one()
    assert not after.awaiting_dialogue and after.dialogue_failures == 0
    # Nobody could read the message, so a person must.
    assert case.detected_by == "failure" and case.criteria == ["unread_message"]
    assert poison.dialogue_failures == 3 and not poison.awaiting_dialogue


def test_the_sweeper_answers_a_message_left_unanswered(sqlite_url: str) -> None:
    with TestClient(create_app(make_settings(sqlite_url, sweep_seconds=1.0))) as client:
        chat = TeenClient(client)
        last = chat.events()[-1]["seq"]
        # A message stored, then left (as by an instance that died before answering it).
        with session_factory(sqlite_url).begin() as session:
            session.add(
                Event(
                    conversation_id=chat.id,
                    seq=last + 1,
                    at=utcnow() - timedelta(minutes=1),
                    type="user_message",
                    payload={"text": "hi"},
                    client_message_id="left",
                    awaiting_dialogue=True,
                )
            )
            session.get(Conversation, chat.id).last_seq = last + 1
        events = chat.wait_for(lambda e: e["type"] == "bot_message", after=last + 1, timeout=10)
    assert "0800 1111" in " ".join(e["text"] for e in events)


def test_rasa_back_from_an_outage_is_told_what_it_missed_before_the_next_message(sqlite_url: str) -> None:
    with StandInRasa() as rasa, TestClient(create_app(make_settings(sqlite_url, rasa_urls=(rasa.url,)))) as client:
        chat = TeenClient(client)
        rasa.down = True
        last = chat.events()[-1]["seq"]
        chat.send("hello")
        seen = chat.wait_for(lambda e: e["type"] == "bot_message", after=last)
        chat.send("i have a question")
        seen += chat.wait_for(lambda e: e["type"] == "bot_message", after=seen[-1]["seq"] + 1)
        rasa.down = False
        chat.send("what do i do")
        chat.wait_for(lambda e: e.get("text") == "Here is what the bot says.", after=seen[-1]["seq"])
    told = [body for path, body in rasa.requests if path == "tracker_events" and body[0]["event"] == "user"]
    assert len(told) == 1
    users = [event for event in told[0] if event["event"] == "user"]
    assert [event["text"] for event in users] == ["hello", "i have a question"]
    assert all(event["parse_data"]["intent"]["name"] == "chitchat" for event in users)
    # The tracker hears what it missed before the new message, and only once.
    paths = [path for path, _ in rasa.requests]
    assert paths.index("tracker_events") < len(paths) - 1 and paths[-1] == "webhook"
    with session_factory(sqlite_url)() as session:
        assert not session.scalars(select(Event).where(Event.missed_by_rasa.is_(True))).all()


def test_a_message_handled_twice_is_answered_once(database_url: str) -> None:
    """Two attempts (a late retry, or two app instances at scale) at one message store one reply."""
    app = create_app(make_settings(database_url))
    services = app.state.services
    with TestClient(app) as client:
        chat = TeenClient(client)
        chat.send("hello")
        chat.wait_for(lambda e: e["type"] == "bot_message" and "0800 1111" in e["text"], after=2)
    with session_factory(database_url).begin() as session:
        message = session.scalars(select(Event).where(Event.client_message_id == "m1")).one()
        before = session.get(Conversation, chat.id).last_seq
        again = record_turn(
            conversation_id=chat.id,
            event_id=message.id,
            turn=NOT_ASKED,
            decision=Decision(),
            detected_by="safety_net",
            bot_expected=True,
            content=services.content,
            session=session,
        )
        assert again is None
        assert session.get(Conversation, chat.id).last_seq == before


def test_the_record_of_a_conversations_last_message_gives_its_claim_up_only_if_stored(database_url: str) -> None:
    """The dialogue worker gives its claim up in the transaction that stores the last message's answer: a
    failed store keeps the claim (the message is still being answered), a message already answered frees it."""
    from bot.content import load_content
    from bot.conversation import flows
    from bot.conversation import service as conversations

    content = load_content(make_settings(database_url).content_dir)
    sessions = session_factory(database_url)
    with sessions.begin() as session:
        conversation_id, token = flows.start(content=content, session=session)
        flows.receive_message(
            conversation_id=conversation_id,
            token=token,
            client_message_id="m1",
            text="hello",
            payload=None,
            content=content,
            session=session,
        )
    with sessions.begin() as session:
        (message,) = conversations.claim_awaiting_dialogue(
            conversation_id, worker="this", until=utcnow() + timedelta(minutes=1), session=session
        )
    answer = dict(
        conversation_id=conversation_id,
        event_id=message.id,
        turn=NOT_ASKED,
        decision=Decision(),
        detected_by="safety_net",
        bot_expected=True,
        content=content,
        release_claim_of="this",
    )

    def claimed_by() -> str | None:
        with sessions() as session:
            return session.get(Conversation, conversation_id).dialogue_claimed_by

    with contextlib.suppress(RuntimeError), sessions.begin() as session:
        assert record_turn(**answer, session=session)
        raise RuntimeError("storing the answer failed")
    assert claimed_by() == "this"
    with sessions.begin() as session:
        assert record_turn(**answer, session=session)
    assert claimed_by() is None
    with sessions.begin() as session:
        assert conversations.claim_dialogue(
            conversation_id, worker="this", until=utcnow() + timedelta(minutes=1), session=session
        )
    with sessions.begin() as session:
        assert record_turn(**answer, session=session) is None
    assert claimed_by() is None
