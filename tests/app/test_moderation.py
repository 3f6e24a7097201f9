"""Moderation and the audit log, against the real app and database (SQLite and PostgreSQL):
ended conversations only, identifying details hidden, every read and sign-in on record,
and audit rows that nothing can change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.app import create_app
from bot.audit.models import AuditAction, AuditEvent
from bot.conversation import service as conversations
from bot.conversation.models import EventType
from bot.database import session_factory, session_scope, utcnow
from bot.staff.models import Role
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker, coercion_case
from tests.app.rasa_tracker import rasa_saves_trackers, rasa_tracker_database

IDENTIFYING = "im Jake Smith, text me on 07911 123456 or add me on snap jake_2010. i go to Oakfield Academy"


@pytest.fixture
def app(database_url) -> Iterator:
    application = create_app(make_settings(database_url, ended_after_minutes=60))
    with TestClient(application):
        yield application


def conversation_with(database_url: str, text_said: str, *, quiet_for: timedelta, open_case: bool = False) -> str:
    with session_scope(session_factory(database_url)) as session:
        conversation, _ = conversations.create(session=session)
        conversations.append_event(conversation.id, EventType.USER_MESSAGE, {"text": text_said}, session=session)
        conversations.append_event(
            conversation.id, EventType.BOT_MESSAGE, {"text": "Call Childline on 0800 1111."}, session=session
        )
        if open_case:
            coercion_case(conversation.id, opened_at_seq=1, session=session)
        conversation.last_activity_at = utcnow() - quiet_for
        return conversation.id


def audit_events(database_url: str, action: AuditAction) -> list[AuditEvent]:
    with session_factory(database_url)() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.id))
        )


@pytest.fixture
def reviewed(database_url, tmp_path) -> Iterator[tuple[Worker, dict[str, str]]]:
    """A moderator, and ended conversations whose turns Rasa itself stored in its tracker store
    (on the same kind of database as the app's): one it was sure of, one it was unsure of, one
    it could not place (the FallbackClassifier's intent, at its threshold) and one it never saw."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with rasa_tracker_database(kind, tmp_path) as tracker_url:
        application = create_app(make_settings(database_url, rasa_tracker_url=tracker_url, low_confidence_below=0.6))
        ids = {
            name: conversation_with(database_url, "hello", quiet_for=timedelta(hours=2))
            for name in ("sure", "unsure", "fallback", "unseen")
        }
        rasa_saves_trackers(
            tracker_url,
            [ids["sure"], ids["unsure"], ids["fallback"]],
            intents={ids["unsure"]: ("ask_law", 0.55), ids["fallback"]: ("nlu_fallback", 0.45)},
        )
        with TestClient(application):
            moderator = Worker(application, database_url, "mo", Role.MODERATOR)
            moderator.sign_in()
            yield moderator, ids


def test_the_list_filters_to_low_confidence_and_fallback_turns(reviewed) -> None:
    moderator, ids = reviewed

    def listed(**filters) -> set[str]:
        found = moderator.http.get("/moderation/api/conversations", params=filters).json()["conversations"]
        return {item["conversation_id"] for item in found}

    assert listed() == set(ids.values())
    # Under the stated threshold (0.6): the unsure turn, and the fallback, given the threshold's 0.45.
    assert listed(low_confidence="true") == {ids["unsure"], ids["fallback"]}
    assert listed(fallback="true") == {ids["fallback"]}
    assert listed(low_confidence="true", fallback="true") == {ids["fallback"]}
    assert listed(fallback="true", level="critical") == set()
    # Opened, the turn that matched says so.
    [turn] = moderator.http.get(f"/moderation/api/conversations/{ids['unsure']}/turns").json()["turns"]
    assert (turn["confidence"], turn["low_confidence"], turn["fallback"]) == (0.55, True, False)


def test_the_page_states_the_low_confidence_threshold(reviewed) -> None:
    moderator, _ = reviewed
    page = moderator.http.get("/moderation").text
    assert 'name="low_confidence"' in page and "under 60%" in page and 'name="fallback"' in page


def test_moderators_list_and_open_only_ended_conversations(app, database_url) -> None:
    ended = conversation_with(database_url, "hello there", quiet_for=timedelta(hours=2))
    live = conversation_with(database_url, "still typing", quiet_for=timedelta(minutes=1))
    in_case = conversation_with(database_url, "help", quiet_for=timedelta(hours=2), open_case=True)
    moderator = Worker(app, database_url, "mo", Role.MODERATOR)
    moderator.sign_in()

    listing = moderator.http.get("/moderation/api/conversations").json()["conversations"]
    assert [item["conversation_id"] for item in listing] == [ended]
    assert "hello there" not in str(listing)
    for hidden in (live, in_case):
        refused = moderator.http.get(f"/moderation/api/conversations/{hidden}/transcript")
        assert refused.status_code == 403 and refused.json()["error"] == "not_ended"
    assert moderator.http.get(f"/moderation/api/conversations/{ended}/transcript").status_code == 200


def test_an_admin_opens_a_live_conversation_only_with_a_reason_which_is_recorded(app, database_url) -> None:
    live = conversation_with(database_url, "still typing", quiet_for=timedelta(minutes=1))
    admin = Worker(app, database_url, "root", Role.ADMIN)
    admin.sign_in()
    listed = {
        item["conversation_id"]: item["ended"]
        for item in admin.http.get("/moderation/api/conversations").json()["conversations"]
    }
    assert listed == {live: False}
    path = f"/moderation/api/conversations/{live}/transcript"
    assert admin.http.get(path).json()["error"] == "reason_needed"
    opened = admin.http.get(path, params={"reason": "Police request about a missing child"})
    assert opened.status_code == 200
    [read] = audit_events(database_url, AuditAction.TRANSCRIPT_READ)
    assert read.conversation_id == live and read.detail["reason"] == "Police request about a missing child"
    assert read.detail["live"] is True


def test_transcripts_hide_identifying_details_but_not_the_help_given(app, database_url) -> None:
    ended = conversation_with(database_url, IDENTIFYING, quiet_for=timedelta(hours=2))
    moderator = Worker(app, database_url, "mo", Role.MODERATOR)
    moderator.sign_in()
    events = moderator.http.get(f"/moderation/api/conversations/{ended}/transcript").json()["events"]
    said = next(event["text"] for event in events if event["type"] == "user_message")
    for detail in ("Jake", "Smith", "07911", "jake_2010", "Oakfield"):
        assert detail not in said
    assert {"[name]", "[phone]", "[username]", "[school]"} <= set(re.findall(r"\[\w+\]", said))
    assert any("0800 1111" in event.get("text", "") for event in events if event["type"] == "bot_message")


def test_every_read_is_audited_whatever_part_it_asks_for(app, database_url) -> None:
    ended = conversation_with(database_url, "hello there", quiet_for=timedelta(hours=2))
    moderator = Worker(app, database_url, "mo", Role.MODERATOR)
    moderator.sign_in()
    for after in (0, 1, 2):
        assert (
            moderator.http.get(f"/moderation/api/conversations/{ended}/transcript", params={"after": after}).status_code
            == 200
        )
    reads = audit_events(database_url, AuditAction.TRANSCRIPT_READ)
    assert [read.detail["after"] for read in reads] == [0, 1, 2]
    assert {read.conversation_id for read in reads} == {ended}
    assert "hello there" not in str([read.detail for read in reads])


def test_sign_ins_and_failed_sign_ins_are_on_record_without_what_was_typed(app, database_url) -> None:
    worker = Worker(app, database_url, "asha")
    assert worker.sign_in("hunter2-wrong").status_code == 401
    assert worker.sign_in().status_code == 303
    nobody = Worker(app, database_url, "real")
    nobody.name = "nobody-by-this-name"
    assert nobody.sign_in().status_code == 401
    failed = audit_events(database_url, AuditAction.SIGN_IN_FAILED)
    signed = audit_events(database_url, AuditAction.SIGNED_IN)
    assert len(failed) == 2 and failed[1].actor_id is None and len(signed) == 1
    assert failed[0].actor_id == signed[0].actor_id
    assert "hunter2" not in str([event.detail for event in failed])


def test_the_audit_log_is_for_admins_and_names_who_did_what(app, database_url) -> None:
    moderator = Worker(app, database_url, "mo", Role.MODERATOR)
    moderator.sign_in()
    assert moderator.http.get("/moderation/api/audit").status_code == 403
    admin = Worker(app, database_url, "root", Role.ADMIN)
    admin.sign_in()
    log = admin.http.get("/moderation/api/audit").json()["events"]
    assert {(event["actor"], event["action"]) for event in log} >= {("mo", "signed_in"), ("root", "signed_in")}


def test_audit_rows_cannot_be_changed_or_deleted_even_with_sql(app, database_url) -> None:
    Worker(app, database_url, "mo", Role.MODERATOR).sign_in()
    engine = session_factory(database_url).kw["bind"]
    for statement in ("UPDATE audit_events SET action = 'nothing'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(audit_events(database_url, AuditAction.SIGNED_IN)) == 1
