"""The reports page and its CSV: the right figures from real data, charts drawn as SVG, no words."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.audit.models import AuditAction, AuditEvent
from bot.conversation import service as conversations
from bot.conversation.models import EventType
from bot.database import session_factory, session_scope, utcnow
from bot.handoff import service as cases
from bot.staff.models import Role
from safeguarding.vocabulary import Level
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker
from tests.app.rasa_tracker import rasa_saves_trackers

WORDS = "he has my pics and wants money"


@pytest.fixture
def admin(database_url, tmp_path) -> Iterator[Worker]:
    tracker_url = f"sqlite:///{tmp_path / 'rasa-tracker.sqlite3'}"
    app = create_app(make_settings(database_url, rasa_tracker_url=tracker_url))
    with session_scope(session_factory(database_url)) as session:
        ids = []
        for level, criteria, outcome, minutes in (
            (Level.CRITICAL, ["immediate_risk"], "referred_police", 2),
            (Level.HIGH, ["coercion", "adult_involved"], "referred_ceop", 10),
            (Level.HIGH, ["coercion"], None, None),
        ):
            conversation, _ = conversations.create(session=session)
            conversations.append_event(conversation.id, EventType.USER_MESSAGE, {"text": WORDS}, session=session)
            case = cases.create(
                conversation.id,
                level=level,
                criteria=criteria,
                evidence=[{"label": "threat", "quote": WORDS}],
                detected_by="dialogue",
                age_band="13_15",
                nation=None,
                opened_at_seq=1,
                session=session,
            )
            if minutes:
                case.claimed_at = case.created_at + timedelta(minutes=minutes)
                cases.close(case, outcome=outcome, note=WORDS, closed_at_seq=1)
            ids.append(conversation.id)
    rasa_saves_trackers(tracker_url, ids[:1])
    with TestClient(app):
        worker = Worker(app, database_url, "root", Role.ADMIN)
        worker.sign_in()
        yield worker


def test_the_figures_count_what_happened(admin) -> None:
    figures = admin.http.get("/reports/api/figures", params={"days": 7}).json()
    assert figures["conversations_per_day"] == [[str(utcnow().date()), 3]]
    assert figures["handoffs_by_level"] == [["critical", 1], ["high", 2]]
    assert figures["handoffs_by_criterion"] == [["adult_involved", 1], ["coercion", 2], ["immediate_risk", 1]]
    assert figures["outcomes"] == [["referred_ceop", 1], ["referred_police", 1]]
    assert figures["wait_seconds"] == {"p50": 360.0, "p95": 576.0, "cases": 2}
    assert figures["fallback"] == {"turns": 1, "fallbacks": 0, "rate": 0.0}
    assert WORDS not in str(figures)


def test_the_page_draws_charts_and_the_csv_export_is_audited(admin, database_url) -> None:
    page = admin.http.get("/reports")
    assert page.status_code == 200 and page.text.count("<svg") == 5
    assert "Referred to CEOP" in page.text and WORDS not in page.text
    exported = admin.http.get("/reports/export.csv", params={"days": 30})
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["measure", "key", "value"] and ["outcomes", "referred_police", "1"] in rows
    with session_factory(database_url)() as session:
        [export] = session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT.value)).all()
    assert export.detail == {"what": "reports", "days": 30}
