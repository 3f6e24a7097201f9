"""Human handoff and the helpline console, against the real app and database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.audit.models import AuditAction, AuditEvent
from bot.database import session_factory
from bot.handoff.models import Case
from bot.staff.models import Role
from devtools.console import ConsoleClient
from devtools.teen import TeenClient
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker

COERCION = "a man online says hell send my nudes to my family unless i pay him. im 14"


@pytest.fixture
def running(database_url):
    """The app with its background work running, and the client the young people use."""
    application = create_app(make_settings(database_url))
    with TestClient(application) as client:
        yield application, client


@pytest.fixture
def app(running):
    return running[0]


@pytest.fixture
def young_person(running):
    """A new conversation on the running app, each time it is called."""
    return lambda: TeenClient(running[1])


def escalate(chat: TeenClient, text: str = COERCION) -> list[dict]:
    last = chat.events()[-1]["seq"]
    chat.send(text)
    return chat.wait_for(lambda e: e["type"] == "status" and e["status"] == "waiting_for_human", after=last)


def wait_for_queue(worker: Worker, predicate, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = worker.state()
        if predicate(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def worker_holding_a_case(app, database_url, young_person, name: str) -> tuple[Worker, TeenClient, dict]:
    """A signed-in worker who has claimed the case of a young person's escalated chat."""
    worker = Worker(app, database_url, name)
    worker.sign_in()
    chat = young_person()
    escalate(chat)
    [queued] = wait_for_queue(worker, lambda s: s["queue"])["queue"]
    assert worker.api("POST", f"/console/api/cases/{queued['id']}/claim").status_code == 200
    return worker, chat, queued


def test_sign_in_sets_a_safe_session_cookie(app, database_url) -> None:
    worker = Worker(app, database_url, "asha")
    response = worker.sign_in()
    assert response.status_code == 303 and response.headers["location"] == "/console"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert worker.csrf


def test_wrong_passwords_lock_the_account_and_say_nothing_specific(app, database_url) -> None:
    worker = Worker(app, database_url, "ben")
    for _ in range(5):
        refused = worker.sign_in("not-the-password")
        assert refused.status_code == 401
    assert worker.sign_in().status_code == 401  # locked, even with the right password
    assert "locked" in refused.text and "password" not in refused.text.lower().split("locked")[0][-40:]


def test_changes_need_the_csrf_token(app, database_url) -> None:
    worker = Worker(app, database_url, "cara")
    worker.sign_in()
    assert worker.api("POST", "/console/api/shift", {"on_shift": True}, csrf=False).status_code == 403
    assert worker.api("POST", "/console/api/shift", {"on_shift": True}).status_code == 200


def test_signed_out_requests_are_refused(app) -> None:
    client = TestClient(app)
    assert client.get("/console/api/state").status_code == 401
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"


def test_the_whole_lifecycle(app, database_url, young_person) -> None:
    worker = Worker(app, database_url, "dev")
    worker.sign_in()
    worker.go_on_shift()
    chat = young_person()
    waiting = escalate(chat)
    told = " ".join(e.get("text", "") for e in waiting)
    assert "number 1 in the queue" in told

    state = wait_for_queue(worker, lambda s: s["queue"])
    [queued] = state["queue"]
    assert queued["level"] == "high" and "coercion" in queued["criteria"]
    assert queued["age_band"] == "13_15" and "waiting_seconds" in queued
    assert "cues" not in queued and "conversation_id" not in queued  # no quotes until it is held

    claimed = worker.api("POST", f"/console/api/cases/{queued['id']}/claim")
    assert claimed.status_code == 200
    assert any("unless i pay" in cue["quote"] for cue in claimed.json()["cues"])
    joined = chat.wait_for(lambda e: e["type"] == "status" and e["status"] == "with_human", after=waiting[-1]["seq"])

    sent = worker.api(
        "POST", f"/console/api/cases/{queued['id']}/messages", {"text": "Hi, I'm here. You're safe to talk."}
    )
    assert sent.status_code == 201
    heard = chat.wait_for(lambda e: e["type"] == "human_message", after=joined[-1]["seq"])
    assert heard[-1]["text"] == "Hi, I'm here. You're safe to talk."

    chat.send("thank you, i didnt know what to do")
    transcript = worker.api("GET", f"/console/api/cases/{queued['id']}/events").json()["events"]
    deadline = time.monotonic() + 10
    while not any(e.get("text") == "thank you, i didnt know what to do" for e in transcript):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        transcript = worker.api("GET", f"/console/api/cases/{queued['id']}/events").json()["events"]
    assert worker.api("GET", f"/console/api/cases/{queued['id']}/events?after={heard[-1]['seq']}").status_code == 200
    # While a person has the conversation, the bot says nothing.
    assert not [e for e in transcript if e["type"] == "bot_message" and e["seq"] > heard[-1]["seq"]]

    closed = worker.api(
        "POST", f"/console/api/cases/{queued['id']}/close", {"outcome": "referred_ceop", "note": "CEOP report made"}
    )
    assert closed.status_code == 200
    back = chat.wait_for(lambda e: e["type"] == "status" and e["status"] == "bot", after=heard[-1]["seq"])
    assert "0800 1111" in " ".join(e.get("text", "") for e in back)
    with session_factory(database_url)() as session:
        case = session.get(Case, queued["id"])
        assert (case.status, case.outcome, case.note) == ("closed", "referred_ceop", "CEOP report made")
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.conversation_id == chat.id, AuditEvent.action == AuditAction.TRANSCRIPT_READ.value
            )
        ).all()
    # Every read is on record, whichever part of the transcript it asked for.
    assert {read.detail["purpose"] for read in reads} == {"case"}
    assert {read.detail["after"] for read in reads} >= {0, heard[-1]["seq"]}
    assert worker.state()["held"] == []


def test_exactly_one_worker_gets_a_case_when_many_claim_at_once(app, database_url, young_person) -> None:
    workers = [Worker(app, database_url, f"worker{i}") for i in range(6)]
    for worker in workers:
        worker.sign_in()
    escalate(young_person())
    [queued] = wait_for_queue(workers[0], lambda s: s["queue"])["queue"]
    results: list[int] = []
    start = threading.Barrier(len(workers))

    def claim(worker: Worker) -> None:
        start.wait()
        results.append(worker.api("POST", f"/console/api/cases/{queued['id']}/claim").status_code)

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] + [409] * (len(workers) - 1)
    assert sum(len(worker.state()["held"]) for worker in workers) == 1


def test_nobody_sees_a_case_they_do_not_hold(app, database_url, young_person) -> None:
    holder, other = Worker(app, database_url, "holder"), Worker(app, database_url, "other")
    holder.sign_in()
    other.sign_in()
    escalate(young_person())
    [queued] = wait_for_queue(holder, lambda s: s["queue"])["queue"]
    assert holder.api("POST", f"/console/api/cases/{queued['id']}/claim").status_code == 200
    case = f"/console/api/cases/{queued['id']}"
    assert other.api("GET", f"{case}/events").status_code == 409
    assert other.api("POST", f"{case}/messages", {"text": "hello"}).status_code == 409
    assert other.api("POST", f"{case}/close", {"outcome": "advice_given"}).status_code == 409
    assert other.state()["held"] == [] and other.state()["queue"] == []


def test_release_puts_the_case_back_in_the_queue(app, database_url, young_person) -> None:
    worker, chat, queued = worker_holding_a_case(app, database_url, young_person, "erin")
    assert worker.api("POST", f"/console/api/cases/{queued['id']}/release").status_code == 200
    assert [item["id"] for item in worker.state()["queue"]] == [queued["id"]]
    statuses = [e["status"] for e in chat.events() if e["type"] == "status"]
    assert statuses[-1] == "waiting_for_human"


def test_critical_cases_come_first(app, database_url, young_person) -> None:
    worker = Worker(app, database_url, "fin")
    worker.sign_in()
    escalate(young_person())
    escalate(young_person(), "my pic got shared and i want to kill myself")
    state = wait_for_queue(worker, lambda s: len(s["queue"]) == 2)
    assert [item["level"] for item in state["queue"]] == ["critical", "high"]


def test_when_nobody_is_on_shift_the_young_person_is_told_honestly(young_person) -> None:
    told = " ".join(e.get("text", "") for e in escalate(young_person()))
    assert "Nobody from the helpline is online right now" in told
    assert "0800 1111" in told


def test_a_young_person_cannot_delete_a_chat_in_an_open_case(young_person) -> None:
    chat = young_person()
    escalate(chat)
    refused = chat.http.delete(f"/api/conversations/{chat.id}", headers=chat.headers)
    assert refused.status_code == 409 and refused.json()["error"] == "chat_in_case"


def test_roles_are_kept_apart(app, database_url) -> None:
    moderator = Worker(app, database_url, "mo", Role.MODERATOR)
    moderator.sign_in()
    assert moderator.http.get("/console/api/state").status_code == 403
    assert moderator.http.get("/moderation/api/conversations").status_code == 200
    assert moderator.http.get("/moderation/api/audit").status_code == 403
    worker = Worker(app, database_url, "sam")
    worker.sign_in()
    assert worker.http.get("/moderation/api/conversations").status_code == 403


def test_sign_out_everywhere_ends_every_session(app, database_url) -> None:
    first = Worker(app, database_url, "gia")
    first.sign_in()
    # The same worker, signed in on another device.
    second = ConsoleClient(TestClient(app))
    second.sign_in("gia", first.password)
    assert second.http.get("/console/api/state").status_code == 200
    assert first.api("POST", "/console/logout-everywhere").status_code == 204
    assert second.http.get("/console/api/state").status_code == 401
    assert first.http.get("/console/api/state").status_code == 401


def test_the_console_stream_asks_for_a_refresh_and_refuses_other_origins(app, database_url) -> None:
    worker = Worker(app, database_url, "hal")
    worker.sign_in()
    with worker.http.websocket_connect("/console/stream", headers={"origin": "http://testserver"}) as socket:
        assert socket.receive_json() == {"type": "refresh"}
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        worker.http.websocket_connect("/console/stream", headers={"origin": "http://evil.example"}) as socket,
    ):
        socket.receive_json()


def test_a_workers_typing_reaches_the_young_persons_stream(app, database_url, young_person) -> None:
    worker, chat, queued = worker_holding_a_case(app, database_url, young_person, "ivy")
    with chat.http.websocket_connect(f"/api/conversations/{chat.id}/stream") as stream:
        stream.send_json({"token": chat.token, "after": chat.events()[-1]["seq"]})
        assert worker.api("POST", f"/console/api/cases/{queued['id']}/typing").status_code == 204
        assert stream.receive_json() == {"type": "typing", "who": "human"}


def test_a_cases_place_in_the_queue_is_its_place_in_the_queues_order(database_url) -> None:
    """queue_position counts in the database what the queue's order shows: more serious first, then older."""
    from bot.conversation import service as conversations
    from bot.handoff import service as cases
    from safeguarding.vocabulary import Level

    levels = [Level.HIGH, Level.CRITICAL, Level.OFFERED, Level.HIGH, Level.CRITICAL, Level.HIGH]
    with session_factory(database_url).begin() as session:
        for level in levels:
            conversation, _ = conversations.create(session=session)
            opened = dict(criteria=["coercion"], evidence=[], detected_by="safety_net", age_band="unknown")
            cases.create(conversation.id, level=level, nation=None, opened_at_seq=0, session=session, **opened)
    with session_factory(database_url)() as session:
        queue = cases.queue(session=session)
        assert [cases.queue_position(case, session=session) for case in queue] == list(range(len(levels)))
