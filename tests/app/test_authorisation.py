"""Every endpoint of the real app against every kind of caller, from one table.

A new endpoint fails `test_the_table_covers_every_endpoint` until it is given a row,
so nobody adds a route without saying who may use it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from bot.app import create_app
from bot.staff.models import Role
from devtools.teen import TeenClient
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker

ROLES = ("anonymous", "other_token", "owner", "staff", "lead", "moderator", "admin")
ALLOWED = "allowed"  # anything but 401 and 403, and never a server error
LOGIN = "login"  # a page that sends the caller to sign in
ELSEWHERE = "elsewhere"  # a page that sends a signed-in caller to the page their role has
# Without Rasa, readiness is honestly "not ready": still answered to anyone.
NOT_READY = 503

PUBLIC = dict.fromkeys(ROLES, ALLOWED)
OWNER_ONLY = {
    "anonymous": 401,
    "other_token": 403,
    "owner": ALLOWED,
    "staff": 401,
    "lead": 401,
    "moderator": 401,
    "admin": 401,
}
WORKERS = {
    "anonymous": 401,
    "other_token": 401,
    "owner": 401,
    "staff": ALLOWED,
    "lead": ALLOWED,
    "moderator": 403,
    "admin": ALLOWED,
}
# Leads run the shift, not moderation: no transcript review, no flags.
MODERATORS = {
    "anonymous": 401,
    "other_token": 401,
    "owner": 401,
    "staff": 403,
    "lead": 403,
    "moderator": ALLOWED,
    "admin": ALLOWED,
}
# A live conversation: moderators review ended ones only; an admin opens it with a reason.
MODERATORS_ENDED_ONLY = {**MODERATORS, "moderator": 403}
# The audit log: admins only, not leads.
ADMINS = {
    "anonymous": 401,
    "other_token": 401,
    "owner": 401,
    "staff": 403,
    "lead": 403,
    "moderator": 403,
    "admin": ALLOWED,
}
# Leading the shift (watching any live case, reassigning, the reports): leads and admins.
LEADS = {**ADMINS, "lead": ALLOWED}
SIGNED_IN = {
    "anonymous": 401,
    "other_token": 401,
    "owner": 401,
    "staff": ALLOWED,
    "lead": ALLOWED,
    "moderator": ALLOWED,
    "admin": ALLOWED,
}
WORKER_PAGE = {
    "anonymous": LOGIN,
    "other_token": LOGIN,
    "owner": LOGIN,
    "staff": ALLOWED,
    "lead": ALLOWED,
    "moderator": ELSEWHERE,
    "admin": ALLOWED,
}
MODERATOR_PAGE = {
    "anonymous": LOGIN,
    "other_token": LOGIN,
    "owner": LOGIN,
    "staff": ELSEWHERE,
    "lead": ELSEWHERE,
    "moderator": ALLOWED,
    "admin": ALLOWED,
}
# The reports page: leads and admins; others go to their own page.
LEAD_PAGE = {**WORKER_PAGE, "staff": ELSEWHERE, "moderator": ELSEWHERE}
WORKER_STREAM = {
    "anonymous": 4403,
    "other_token": 4403,
    "owner": 4403,
    "staff": ALLOWED,
    "lead": ALLOWED,
    "moderator": 4403,
    "admin": ALLOWED,
}
OWNER_STREAM = {
    "anonymous": 4401,
    "other_token": 4403,
    "owner": ALLOWED,
    "staff": 4401,
    "lead": 4401,
    "moderator": 4401,
    "admin": 4401,
}

# (method, path, body, who may call it). {conversation_id} is the owner's conversation; {case_id} its case.
TABLE: list[tuple[str, str, dict | None, dict[str, object]]] = [
    ("GET", "/healthz", None, PUBLIC),
    ("GET", "/readyz", None, dict.fromkeys(ROLES, NOT_READY)),
    ("GET", "/", None, PUBLIC),
    ("GET", "/widget.js", None, PUBLIC),
    ("GET", "/widget/frame", None, PUBLIC),
    ("GET", "/widget/frame.js", None, PUBLIC),
    ("GET", "/widget/frame.css", None, PUBLIC),
    ("GET", "/privacy", None, PUBLIC),
    ("POST", "/api/conversations", None, PUBLIC),
    ("POST", "/api/conversations/{conversation_id}/messages", {"client_message_id": "x", "text": "hi"}, OWNER_ONLY),
    ("GET", "/api/conversations/{conversation_id}/events", None, OWNER_ONLY),
    ("POST", "/api/conversations/{conversation_id}/comeback-code", None, OWNER_ONLY),
    ("DELETE", "/api/conversations/{conversation_id}/comeback-code", None, OWNER_ONLY),
    ("POST", "/api/conversations/comeback", {"code": "ABCDE-FGHJK"}, PUBLIC),
    ("DELETE", "/api/conversations/{conversation_id}", None, OWNER_ONLY),
    ("WS", "/api/conversations/{conversation_id}/stream", None, OWNER_STREAM),
    ("GET", "/console/login", None, PUBLIC),
    # Without the sign-in form's own CSRF cookie, refused whoever asks.
    ("POST", "/console/login", None, dict.fromkeys(ROLES, 403)),
    ("GET", "/console", None, WORKER_PAGE),
    ("GET", "/console/api/state", None, WORKERS),
    ("POST", "/console/api/shift", {"on_shift": True}, WORKERS),
    ("POST", "/console/api/next", None, WORKERS),
    ("POST", "/console/api/cases/{case_id}/claim", None, WORKERS),
    ("GET", "/console/api/cases/{case_id}/events", None, WORKERS),
    ("POST", "/console/api/cases/{case_id}/messages", {"text": "hello"}, WORKERS),
    ("POST", "/console/api/cases/{case_id}/typing", None, WORKERS),
    ("POST", "/console/api/cases/{case_id}/release", None, WORKERS),
    ("GET", "/console/api/cases/{case_id}/watch", None, LEADS),
    ("POST", "/console/api/cases/{case_id}/reassign", {"worker": "who-staff"}, LEADS),
    ("POST", "/console/api/cases/{case_id}/close", {"outcome": "advice_given"}, WORKERS),
    ("WS", "/console/stream", None, WORKER_STREAM),
    ("GET", "/moderation", None, MODERATOR_PAGE),
    ("GET", "/moderation/api/conversations", None, MODERATORS),
    ("GET", "/moderation/api/conversations/{conversation_id}/transcript", None, MODERATORS_ENDED_ONLY),
    ("GET", "/moderation/api/conversations/{conversation_id}/turns", None, MODERATORS_ENDED_ONLY),
    (
        "POST",
        "/moderation/api/conversations/{conversation_id}/flags",
        {"turn": 1, "kind": "unsafe_reply"},
        MODERATORS_ENDED_ONLY,
    ),
    ("GET", "/moderation/api/flags", None, MODERATORS),
    ("GET", "/moderation/export/corrections.zip", None, MODERATORS),
    ("GET", "/moderation/api/audit", None, ADMINS),
    ("GET", "/reports", None, LEAD_PAGE),
    ("GET", "/reports/api/figures", None, LEADS),
    ("GET", "/reports/export.csv", None, LEADS),
    # Last: they end the caller's session (the test signs in again after each).
    ("POST", "/console/logout", None, SIGNED_IN),
    ("POST", "/console/logout-everywhere", None, SIGNED_IN),
]
SIGNS_OUT = {"/console/logout", "/console/logout-everywhere"}
# Served by FastAPI or as files, and holding nothing about anyone.
NOT_IN_TABLE = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _routes(routes) -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            continue
        if isinstance(route, WebSocketRoute):
            yield "WS", route.path
        elif isinstance(route, Route):
            for method in route.methods - {"HEAD"}:
                yield method, route.path
        else:  # a router included by FastAPI
            yield from _routes(route.original_router.routes)


@dataclass
class Callers:
    clients: dict[str, TestClient]
    headers: dict[str, dict[str, str]]
    workers: dict[str, Worker]
    conversation: str
    case: int

    def sign_in_again(self, role: str) -> None:
        if role in self.workers:
            self.workers[role].sign_in()
            self.headers[role] = {"X-CSRF-Token": self.workers[role].csrf}


@pytest.fixture
def callers(database_url) -> Iterator[Callers]:
    app = create_app(make_settings(database_url))
    with TestClient(app) as client:
        owner, other = TeenClient(client), TeenClient(client)
        owner.send("a man online says hell send my nudes to my family unless i pay him. im 14")
        workers = {role.value: Worker(app, database_url, f"who-{role.value}", role) for role in Role}
        for worker in workers.values():
            worker.sign_in()
        deadline = time.monotonic() + 20
        while not (queue := workers["staff"].state()["queue"]):
            assert time.monotonic() < deadline, "the safety net opened no case"
            time.sleep(0.1)
        yield Callers(
            clients={"anonymous": client, "other_token": client, "owner": client}
            | {role: worker.http for role, worker in workers.items()},
            headers={"anonymous": {}, "other_token": other.headers, "owner": owner.headers}
            | {role: {"X-CSRF-Token": worker.csrf} for role, worker in workers.items()},
            workers=workers,
            conversation=owner.id,
            case=queue[0]["id"],
        )


def test_the_table_covers_every_endpoint(database_url) -> None:
    app = create_app(make_settings(database_url))
    listed = {(method, path) for method, path, _, _ in TABLE}
    served = set(_routes(app.routes))
    missing = {(method, path) for method, path in served - listed if path not in NOT_IN_TABLE}
    assert missing == set()
    assert listed - served == set()


def _websocket_outcome(client: TestClient, path: str, headers: dict[str, str]) -> object:
    """ALLOWED when the stream sends its first real message, else the code it closed with."""
    token = headers.get("Authorization", "").removeprefix("Bearer ")
    try:
        with client.websocket_connect(path, headers={"origin": "http://testserver"}) as socket:
            if path.startswith("/api/"):
                socket.send_json({"token": token, "after": 0} if token else {"after": 0})
            while socket.receive_json().get("type") == "error":
                pass
            return ALLOWED
    except WebSocketDisconnect as closed:
        return closed.code


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_each_role_as_the_table_says(callers: Callers, role: str) -> None:
    client = callers.clients[role]
    wrong = []
    for method, template, body, expected_by_role in TABLE:
        headers = callers.headers[role]
        expected = expected_by_role[role]
        path = template.format(conversation_id=callers.conversation, case_id=callers.case)
        if method == "WS":
            outcome = _websocket_outcome(client, path, headers)
            if outcome != expected:
                wrong.append((method, template, expected, outcome))
            continue
        response = client.request(method, path, json=body, headers=headers, follow_redirects=False)
        location = response.headers.get("location", "")
        if expected == ALLOWED:
            fine = response.status_code not in (401, 403) and response.status_code < 500
        elif expected == LOGIN:
            fine = response.status_code == 303 and location.endswith("/console/login")
        elif expected == ELSEWHERE:
            fine = response.status_code == 303 and not location.endswith("/console/login")
        else:
            fine = response.status_code == expected
        if not fine:
            wrong.append((method, template, expected, response.status_code))
        if template in SIGNS_OUT:
            callers.sign_in_again(role)
    assert wrong == []


def test_every_row_says_what_each_role_gets() -> None:
    assert [template for _, template, _, expected in TABLE if set(expected) != set(ROLES)] == []
