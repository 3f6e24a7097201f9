"""A helpline worker using the console through the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.handoff import service as cases
from bot.staff.models import Role
from devtools.console import ConsoleClient, create_account
from safeguarding.vocabulary import Level


class Worker(ConsoleClient):
    """A console user with a fresh account on the app under test."""

    def __init__(self, app, database_url: str, name: str, role: Role = Role.STAFF) -> None:
        super().__init__(TestClient(app, base_url="http://testserver"))
        self.name = name
        self.password = create_account(database_url, name, role)

    def sign_in(self, password: str | None = None):
        return super().sign_in(self.name, password or self.password)


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
