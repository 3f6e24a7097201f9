"""A helpline worker using the console through the real app."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bot.database import session_factory, session_scope
from bot.handoff import service as cases
from bot.staff import service as staff
from bot.staff.models import Role
from safeguarding.vocabulary import Level


def create_account(database_url: str, name: str, role: Role = Role.STAFF) -> str:
    with session_scope(session_factory(database_url)) as session:
        _, password = staff.create_user(name, role, session=session)
    return password


class Worker:
    def __init__(self, app, database_url: str, name: str, role: Role = Role.STAFF) -> None:
        self.client = TestClient(app, base_url="http://testserver")
        self.name = name
        self.password = create_account(database_url, name, role)
        self.csrf = ""

    def login_form_token(self) -> str:
        page = self.client.get("/console/login")
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def sign_in(self, password: str | None = None):
        response = self.client.post(
            "/console/login",
            data={"username": self.name, "password": password or self.password, "csrf_token": self.login_form_token()},
            follow_redirects=False,
        )
        if response.status_code == 303:
            page = self.client.get(response.headers["location"])
            found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            self.csrf = found.group(1) if found else ""
        return response

    def api(self, method: str, path: str, json=None, csrf: bool = True):
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.client.request(method, path, json=json, headers=headers)

    def state(self) -> dict:
        response = self.api("GET", "/console/api/state")
        assert response.status_code == 200, response.text
        return response.json()

    def go_on_shift(self) -> None:
        assert self.api("POST", "/console/api/shift", {"on_shift": True}).status_code == 200


def coercion_case(conversation_id: str, level: Level = Level.HIGH, opened_at_seq: int = 0, *, session):
    """A case opened as the dialogue opens one for coercion, for tests about what happens to cases."""
    return cases.create(
        conversation_id,
        level=level,
        criteria=["coercion"],
        evidence=[],
        detected_by="dialogue",
        age_band="13_15",
        nation=None,
        opened_at_seq=opened_at_seq,
        session=session,
    )
