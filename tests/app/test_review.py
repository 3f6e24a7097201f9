"""Review tools: per-turn review from Rasa's tracker store, flags with filters and counts,
and the corrections export validated by Rasa itself."""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import timedelta

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.audit.models import AuditAction, AuditEvent
from bot.conversation import service as conversations
from bot.conversation.models import EventType
from bot.database import session_factory, session_scope, utcnow
from bot.handoff import service as cases
from bot.moderation import corrections
from bot.moderation.redaction import load_redactor
from bot.moderation.service import known_intents
from bot.settings import PROJECT_ROOT
from bot.staff.models import Role
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker, coercion_case
from tests.app.rasa_tracker import RASA_PYTHON, rasa_saves_trackers

SAID = ["hi is this private", "he says he'll post my pics unless i pay. his snap is darkboy_99", "thanks"]


@pytest.fixture
def reviewing(sqlite_url, tmp_path) -> Iterator[tuple[Worker, str, str]]:
    """A signed-in moderator, an ended conversation with a closed case, and the tracker store's URL."""
    tracker_url = f"sqlite:///{tmp_path / 'rasa-tracker.sqlite3'}"
    app = create_app(make_settings(sqlite_url, rasa_tracker_url=tracker_url))
    with TestClient(app), session_scope(session_factory(sqlite_url)) as session:
        conversation, _ = conversations.create(session=session)
        for text in SAID:
            conversations.append_event(conversation.id, EventType.USER_MESSAGE, {"text": text}, session=session)
        case = coercion_case(conversation.id, opened_at_seq=2, session=session)
        cases.close(case, outcome="referred_ceop", note=None, closed_at_seq=3)
        conversation.last_activity_at = utcnow() - timedelta(days=1)
        conversation_id = conversation.id
    with TestClient(app):
        moderator = Worker(app, sqlite_url, "mo", Role.MODERATOR)
        moderator.sign_in()
        yield moderator, conversation_id, tracker_url


def flag(moderator: Worker, conversation_id: str, **body):
    return moderator.api("POST", f"/moderation/api/conversations/{conversation_id}/flags", body)


def test_each_turn_shows_intent_confidence_decision_and_reply_redacted(reviewing) -> None:
    moderator, conversation_id, tracker_url = reviewing
    rasa_saves_trackers(tracker_url, [conversation_id])
    [turn] = moderator.http.get(f"/moderation/api/conversations/{conversation_id}/turns").json()["turns"]
    assert turn == {
        "turn": 1,
        "text": "my snap is [username]",
        "intent": "disclose_coercion",
        "confidence": 0.91,
        "low_confidence": False,
        "fallback": False,
        "decision": {"action": "handoff", "level": "high", "criteria": ["coercion"]},
        "replies": ["Thanks for telling me."],
    }


def test_flags_need_what_they_claim_and_missed_handoffs_are_counted_first(reviewing) -> None:
    moderator, conversation_id, _ = reviewing
    assert flag(moderator, conversation_id, turn=1, kind="wrong_intent").json()["error"] == "flag_needs_intent"
    assert flag(moderator, conversation_id, turn=1, kind="wrong_intent", right_intent="nonsense").status_code == 422
    assert flag(moderator, conversation_id, turn=9, kind="unsafe_reply").json()["error"] == "flag_no_turn"
    assert flag(moderator, conversation_id, turn=2, kind="missed_handoff").json()["error"] == "flag_needs_criteria"
    right = sorted(known_intents())[0]
    assert flag(moderator, conversation_id, turn=1, kind="wrong_intent", right_intent=right).status_code == 201
    made = flag(
        moderator,
        conversation_id,
        turn=2,
        kind="missed_handoff",
        criteria=["coercion"],
        note="should have gone at once",
    )
    assert made.status_code == 201
    listed = moderator.http.get("/moderation/api/flags").json()
    assert next(iter(listed["counts"].items())) == ("missed_handoff", 1)
    assert moderator.http.get("/moderation/api/conversations", params={"flag": "missed_handoff"}).json()[
        "conversations"
    ][0]["flags"] == [flag["kind"] for flag in reversed(listed["flags"])]
    assert moderator.http.get("/moderation/api/conversations", params={"flag": "unsafe_reply"}).json() == {
        "conversations": []
    }
    by_case = moderator.http.get("/moderation/api/conversations", params={"level": "high", "outcome": "referred_ceop"})
    assert [item["conversation_id"] for item in by_case.json()["conversations"]] == [conversation_id]
    assert moderator.http.get("/moderation/api/conversations", params={"level": "critical"}).json() == {
        "conversations": []
    }


def test_the_export_is_redacted_and_rasa_validates_it(reviewing, sqlite_url, tmp_path) -> None:
    moderator, conversation_id, _ = reviewing
    intent = sorted(known_intents())[0]
    assert flag(moderator, conversation_id, turn=2, kind="wrong_intent", right_intent=intent).status_code == 201
    assert flag(moderator, conversation_id, turn=2, kind="missed_handoff", criteria=["coercion"]).status_code == 201
    assert flag(moderator, conversation_id, turn=1, kind="needless_handoff").status_code == 201
    out = tmp_path / "corrections"
    with session_scope(session_factory(sqlite_url)) as session:
        exported = corrections.export(out, redactor=load_redactor(), session=session)
    assert (exported.nlu_examples, exported.risk_examples) == (1, 2)
    nlu = yaml.safe_load((out / corrections.NLU_FILE).read_text())
    assert nlu["nlu"] == [{"intent": intent, "examples": f"- {load_redactor().redact(SAID[1])}\n"}]
    assert "darkboy_99" not in (out / corrections.NLU_FILE).read_text() + (out / corrections.RISK_FILE).read_text()
    risk = yaml.safe_load((out / corrections.RISK_FILE).read_text())["conversations"]
    assert risk[0]["criteria"] == ["coercion"] and risk[0]["risk_at"] == 2 and len(risk[0]["turns"]) == 2
    assert risk[1] == {"turns": [SAID[0]]}

    validated = subprocess.run(
        [
            str(RASA_PYTHON),
            "-m",
            "rasa",
            "data",
            "validate",
            "--data",
            "data",
            str(out / corrections.NLU_FILE),
            "--fail-on-warnings",
            "--quiet",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore", "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]


def test_a_moderator_downloads_the_same_export_and_the_download_is_audited(reviewing, sqlite_url, tmp_path) -> None:
    moderator, conversation_id, _ = reviewing
    assert flag(moderator, conversation_id, turn=2, kind="missed_handoff", criteria=["coercion"]).status_code == 201
    downloaded = moderator.http.get("/moderation/export/corrections.zip")
    assert downloaded.status_code == 200 and downloaded.headers["content-type"] == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(downloaded.content))
    out = tmp_path / "corrections"
    with session_scope(session_factory(sqlite_url)) as session:
        corrections.export(out, redactor=load_redactor(), session=session)
    for name in (corrections.NLU_FILE, corrections.RISK_FILE):
        assert files.read(name).decode() == (out / name).read_text()
    assert "darkboy_99" not in files.read(corrections.RISK_FILE).decode()
    with session_factory(sqlite_url)() as session:
        [recorded] = session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT.value)).all()
    assert recorded.actor_id is not None
    assert recorded.detail == {"what": "corrections", "nlu_examples": 0, "risk_examples": 1}
