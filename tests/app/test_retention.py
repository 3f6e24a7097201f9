"""Deleting a conversation deletes it everywhere, Rasa's tracker store included, and keeps
only its cases' outcomes, without words, for as long as BOT_OUTCOME_RETENTION_DAYS says."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import retention
from bot.app import create_app
from bot.audit.models import AuditAction, AuditEvent
from bot.conversation import service as conversations
from bot.conversation.models import Conversation, Event
from bot.database import session_factory, session_scope, utcnow
from bot.handoff import service as cases
from bot.handoff.models import Case
from devtools.teen import TeenClient
from safeguarding.vocabulary import Level
from tests.app.conftest import make_settings
from tests.app.rasa_tracker import rasa_saves_trackers, rasa_tracker_database, stored_events


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request, tmp_path) -> Iterator[str]:
    """Rasa's tracker store on SQLite or on the local PostgreSQL server."""
    with rasa_tracker_database(request.param, tmp_path) as url:
        yield url


def test_a_young_persons_delete_removes_the_chat_from_rasas_tracker_store(sqlite_url, tracker_url) -> None:
    with TestClient(create_app(make_settings(sqlite_url, rasa_tracker_url=tracker_url))) as client:
        leaving, staying = TeenClient(client), TeenClient(client)
        rasa_saves_trackers(tracker_url, [leaving.id, staying.id])
        assert stored_events(tracker_url, leaving.id) > 0

        assert client.delete(f"/api/conversations/{leaving.id}", headers=leaving.headers).status_code == 204

    assert stored_events(tracker_url, leaving.id) == 0
    assert stored_events(tracker_url, staying.id) > 0
    with session_factory(sqlite_url)() as session:
        assert session.get(Conversation, leaving.id) is None
        assert not session.scalars(select(Event).where(Event.conversation_id == leaving.id)).all()
        [deleted] = session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == leaving.id)).all()
    assert (deleted.action, deleted.detail) == (AuditAction.CONVERSATION_DELETED.value, {"by": "young_person"})


def _closed_case(conversation_id: str, *, session) -> Case:
    case = cases.create(
        conversation_id,
        level=Level.HIGH,
        criteria=["coercion"],
        evidence=[{"label": "threat to share", "quote": "he said he'd send it to my mum"}],
        detected_by="dialogue",
        age_band="13_15",
        nation="england",
        opened_at_seq=1,
        session=session,
    )
    cases.close(case, outcome="referred_police", note="Spoke to Jess about her mum", closed_at_seq=5)
    return case


def test_the_retention_purge_empties_the_tracker_store_and_keeps_outcomes_without_words(
    database_url, tracker_url
) -> None:
    settings = make_settings(database_url, rasa_tracker_url=tracker_url, transcript_retention_days=30)
    with session_scope(session_factory(database_url)) as session:
        idle, _ = conversations.create(session=session)
        recent, _ = conversations.create(session=session)
        idle.last_activity_at = utcnow() - timedelta(days=31)
        case_id = _closed_case(idle.id, session=session).id
        ids = idle.id, recent.id
    rasa_saves_trackers(tracker_url, list(ids))
    # What Rasa saved for a conversation after it was deleted (it was still answering), two hours
    # ago, and a moment ago; only the old leftover is certainly finished with, so only it goes.
    old_leftover, new_leftover = secrets.token_hex(16), secrets.token_hex(16)
    rasa_saves_trackers(tracker_url, [old_leftover], hours_ago=2)
    rasa_saves_trackers(tracker_url, [new_leftover])

    with session_scope(session_factory(database_url)) as session:
        purged = retention.purge(settings=settings, session=session)
    assert (purged.conversations, purged.outcomes, purged.tracker_leftovers) == (1, 0, 1)
    assert stored_events(tracker_url, old_leftover) == 0 and stored_events(tracker_url, new_leftover) > 0

    assert stored_events(tracker_url, ids[0]) == 0 and stored_events(tracker_url, ids[1]) > 0
    with session_factory(database_url)() as session:
        assert session.get(Conversation, ids[0]) is None and session.get(Conversation, ids[1]) is not None
        kept = session.get(Case, case_id)
        assert (kept.conversation_id, kept.cues, kept.note) == (None, [], None)
        assert (kept.level, kept.criteria, kept.outcome, kept.age_band) == (
            "high",
            ["coercion"],
            "referred_police",
            "13_15",
        )
        assert kept.created_at and kept.closed_at

    # The outcome goes in its turn, when its own retention period ends.
    with session_scope(session_factory(database_url)) as session:
        session.get(Case, case_id).closed_at = utcnow() - timedelta(days=settings.outcome_retention_days + 1)
    with session_scope(session_factory(database_url)) as session:
        assert retention.purge(settings=settings, session=session).outcomes == 1
    with session_factory(database_url)() as session:
        assert session.get(Case, case_id) is None
