"""The optional come-back code: it opens the same conversation again, once, for a limited time.

Against the real app and a real, migrated database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.app import create_app
from bot.conversation import service as conversations
from bot.conversation.models import ComebackCode
from bot.database import session_factory, session_scope, utcnow
from devtools.teen import TeenClient
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker, coercion_case
from tests.app.test_console import escalate

GUESSES_ALLOWED = 3
CODE_SHAPE = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b")


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = make_settings(database_url, limit_comeback_failures=f"{GUESSES_ALLOWED}/10 minutes")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def start(client: TestClient) -> tuple[str, dict[str, str]]:
    started = client.post("/api/conversations").json()
    return started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}


def code_for(client: TestClient, conversation_id: str, headers: dict[str, str]) -> dict:
    created = client.post(f"/api/conversations/{conversation_id}/comeback-code", headers=headers)
    assert created.status_code == 201, created.text
    return created.json()


def events(client: TestClient, conversation_id: str, headers: dict[str, str]):
    return client.get(f"/api/conversations/{conversation_id}/events", headers=headers)


def test_a_code_opens_the_same_chat_once_with_a_new_key(client: TestClient) -> None:
    conversation_id, old_headers = start(client)
    created = code_for(client, conversation_id, old_headers)
    assert "come-back code" in created["messages"][0] and "keep it private" in created["messages"][1]

    # Typed as a young person might: lower case, a space instead of the dash.
    opened = client.post("/api/conversations/comeback", json={"code": created["code"].lower().replace("-", " ")})
    assert opened.status_code == 200, opened.text
    assert opened.json()["conversation_id"] == conversation_id
    new_headers = {"Authorization": f"Bearer {opened.json()['token']}"}
    assert [e["type"] for e in events(client, conversation_id, new_headers).json()["events"]][:1] == ["bot_message"]
    # The tab that was closed (or a copy of its key) no longer opens it, and the code is used up.
    assert events(client, conversation_id, old_headers).status_code == 403
    again = client.post("/api/conversations/comeback", json={"code": created["code"]})
    assert again.status_code == 404 and "doesn't work" in again.json()["message"]


def test_only_the_chat_itself_can_ask_for_a_code(client: TestClient) -> None:
    conversation_id, _ = start(client)
    assert client.post(f"/api/conversations/{conversation_id}/comeback-code").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.post(f"/api/conversations/{conversation_id}/comeback-code", headers=wrong).status_code == 403


def test_a_code_stops_working_when_it_runs_out(client: TestClient, database_url: str) -> None:
    conversation_id, headers = start(client)
    code = code_for(client, conversation_id, headers)["code"]
    with session_factory(database_url).begin() as session:
        session.execute(
            update(ComebackCode)
            .where(ComebackCode.conversation_id == conversation_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    assert client.post("/api/conversations/comeback", json={"code": code}).status_code == 404


@pytest.mark.parametrize("how", ["cancel the code", "delete the chat", "ask for a new code"])
def test_a_code_can_be_revoked(client: TestClient, how: str) -> None:
    conversation_id, headers = start(client)
    code = code_for(client, conversation_id, headers)["code"]
    if how == "cancel the code":
        assert client.delete(f"/api/conversations/{conversation_id}/comeback-code", headers=headers).status_code == 204
    elif how == "delete the chat":
        assert client.delete(f"/api/conversations/{conversation_id}", headers=headers).status_code == 204
    else:
        code_for(client, conversation_id, headers)
    assert client.post("/api/conversations/comeback", json={"code": code}).status_code == 404


def test_guessing_is_slowed_down_for_everyone(client: TestClient) -> None:
    conversation_id, headers = start(client)
    code = code_for(client, conversation_id, headers)["code"]
    for _ in range(GUESSES_ALLOWED):
        assert client.post("/api/conversations/comeback", json={"code": "AAAAA-AAAAA"}).status_code == 404
    refused = client.post("/api/conversations/comeback", json={"code": code})
    assert refused.status_code == 429
    assert "0800 1111" in refused.json()["message"] and "999" in refused.json()["message"]


@pytest.mark.parametrize("wait", ["nobody on shift", "a worker on shift, the wait unknown"])
def test_a_code_is_offered_when_a_reply_may_come_after_the_page_has_closed(
    client: TestClient, database_url: str, wait: str
) -> None:
    if wait != "nobody on shift":
        worker = Worker(client.app, database_url, "asha")
        worker.sign_in()
        worker.go_on_shift()
    told = escalate(TeenClient(client))
    texts = [event.get("text", "") for event in told]
    [offer] = [event for event in told if event.get("offer") == "comeback_code"]
    assert offer["type"] == "bot_message" and "come-back code" in offer["text"] and "don't need" in offer["text"]
    # After the honest word on the wait, never before it; the code itself is made only when asked for.
    assert texts.index(offer["text"]) > next(i for i, text in enumerate(texts) if "page stays open" in text)
    assert not any(CODE_SHAPE.search(text) for text in texts)


def test_no_code_is_offered_when_the_typical_wait_can_be_told(client: TestClient, database_url: str) -> None:
    worker = Worker(client.app, database_url, "asha")
    worker.sign_in()
    worker.go_on_shift()
    with session_scope(session_factory(database_url)) as session:
        earlier = [coercion_case(conversations.create(session=session)[0].id, session=session).id for _ in range(3)]
    for case_id in earlier:
        assert worker.api("POST", f"/console/api/cases/{case_id}/claim").status_code == 200
    told = escalate(TeenClient(client))
    assert "usually replies in about" in " ".join(event.get("text", "") for event in told)
    assert not [event for event in told if "offer" in event]


def test_delete_my_chat_cancels_the_code_even_while_a_worker_must_keep_the_chat(client: TestClient) -> None:
    chat = TeenClient(client)
    escalate(chat)
    code = code_for(client, chat.id, chat.headers)["code"]
    refused = client.delete(f"/api/conversations/{chat.id}", headers=chat.headers)
    assert refused.status_code == 409 and refused.json()["error"] == "chat_in_case"
    assert "come-back code is cancelled" in refused.json()["message"]
    assert client.post("/api/conversations/comeback", json={"code": code}).status_code == 404
    assert chat.events(), "the chat itself stays for the helpline worker"
    # Asked again with no code left, it does not claim to have cancelled one.
    again = client.delete(f"/api/conversations/{chat.id}", headers=chat.headers)
    assert again.status_code == 409 and "come-back code" not in again.json()["message"]
