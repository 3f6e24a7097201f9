"""The shift view: queue health, "take the next most urgent", and a paged queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.audit.models import AuditEvent
from bot.conversation import service as conversations
from bot.database import session_factory, session_scope
from bot.staff.models import Role, StaffUser
from safeguarding.vocabulary import Level
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker, coercion_case


def queue_cases(database_url: str, levels: list[Level]) -> list[int]:
    with session_scope(session_factory(database_url)) as session:
        made = []
        for level in levels:
            conversation, _ = conversations.create(session=session)
            made.append(coercion_case(conversation.id, level=level, session=session).id)
        return made


@pytest.fixture
def worker(database_url) -> Iterator[Worker]:
    app = create_app(make_settings(database_url))
    with TestClient(app):
        person = Worker(app, database_url, "asha")
        person.sign_in()
        person.go_on_shift()
        yield person


def test_queue_health_counts_levels_waits_and_cases_per_worker(worker, database_url) -> None:
    queue_cases(database_url, [Level.HIGH, Level.CRITICAL, Level.HIGH, Level.OFFERED])
    health = worker.state()["health"]
    assert health["waiting"] == {"critical": 1, "high": 2, "offered": 1} and health["total_waiting"] == 4
    assert health["longest_wait_seconds"] >= 0
    assert health["cases_per_worker"] == [{"worker": "asha", "cases": 0}]


def test_take_the_next_most_urgent_takes_critical_first_then_the_longest_waiting(worker, database_url) -> None:
    first_high, critical, _ = queue_cases(database_url, [Level.HIGH, Level.CRITICAL, Level.HIGH])
    assert worker.api("POST", "/console/api/next").json()["id"] == critical
    assert worker.api("POST", "/console/api/next").json()["id"] == first_high
    assert worker.state()["health"]["cases_per_worker"] == [{"worker": "asha", "cases": 2}]


def test_a_long_queue_is_paged_by_fifty(worker, database_url) -> None:
    made = queue_cases(database_url, [Level.HIGH] * 120)
    first = worker.state()
    assert (len(first["queue"]), first["page"], first["pages"]) == (50, 0, 3)
    last = worker.api("GET", "/console/api/state?page=9").json()
    assert last["page"] == 2 and [item["id"] for item in last["queue"]] == made[100:]


def test_a_lead_watches_a_live_case_audited_and_reassigns_it(worker, database_url) -> None:
    [case_id] = queue_cases(database_url, [Level.HIGH])
    assert worker.api("POST", f"/console/api/cases/{case_id}/claim").status_code == 200
    app = worker.http.app
    lead = Worker(app, database_url, "lead", Role.LEAD)
    lead.sign_in()
    other = Worker(app, database_url, "ben")
    other.sign_in()
    assert other.api("GET", f"/console/api/cases/{case_id}/watch").status_code == 403
    # Only a lead's console lists the cases with workers, without the young person's words.
    assert "in_hand" not in other.state()
    [in_hand] = lead.state()["in_hand"]
    assert (in_hand["id"], in_hand["holder"]) == (case_id, "asha") and "cues" not in in_hand
    assert lead.api("GET", f"/console/api/cases/{case_id}/watch").status_code == 200

    assert lead.api("POST", f"/console/api/cases/{case_id}/reassign", {"worker": "nobody"}).status_code == 422
    moved = lead.api("POST", f"/console/api/cases/{case_id}/reassign", {"worker": "ben"})
    assert moved.json() == {"reassigned": case_id, "to": "ben"}
    assert [item["id"] for item in other.state()["held"]] == [case_id] and worker.state()["held"] == []
    with session_factory(database_url)() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)).all()
        ids = {user.username: user.id for user in session.scalars(select(StaffUser))}
    assert [(event.action, event.detail.get("purpose")) for event in events] == [
        ("case_claimed", None),
        ("transcript_read", "watch"),
        ("case_reassigned", None),
    ]
    assert events[-1].detail == {"from": ids["asha"], "to": ids["ben"]}
