"""The administration commands, run as `make user` and the retention job run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from bot.audit.models import AuditEvent
from bot.conversation import service as conversations
from bot.conversation.models import Conversation
from bot.database import session_factory, session_scope, utcnow
from bot.settings import PROJECT_ROOT
from bot.staff import service as staff
from bot.staff.models import StaffSession, StaffUser
from tests.app.console_helpers import coercion_case


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOT_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )


def test_create_user_prints_a_working_password_once_and_refuses_a_duplicate(database_url: str) -> None:
    created = cli(database_url, "create-user", "--name", "nadia", "--role", "moderator")
    assert created.returncode == 0, created.stderr
    password = re.search(r"Password \(shown once.*\): (\S+)", created.stdout).group(1)
    with session_scope(session_factory(database_url)) as session:
        user_id, password_hash = staff.password_hash_of("nadia", session=session)
        assert session.get(StaffUser, user_id).role == "moderator"
    assert staff.verify_password(password_hash, password)
    assert password not in password_hash
    again = cli(database_url, "create-user", "--name", "nadia", "--role", "staff")
    assert again.returncode == 1 and "already" in again.stderr


def test_a_shift_lead_account_is_created_from_the_command_line(database_url: str) -> None:
    created = cli(database_url, "create-user", "--name", "lee", "--role", "lead")
    assert created.returncode == 0, created.stderr
    assert "Created lead account 'lee'" in created.stdout
    with session_factory(database_url)() as session:
        assert staff.find_user("lee", session=session).role == "lead"


def test_purge_deletes_idle_conversations_but_keeps_open_cases(database_url: str) -> None:
    long_ago = utcnow() - timedelta(days=400)
    with session_scope(session_factory(database_url)) as session:
        idle, _ = conversations.create(session=session)
        in_case, _ = conversations.create(session=session)
        recent, _ = conversations.create(session=session)
        idle.last_activity_at = in_case.last_activity_at = long_ago
        coercion_case(in_case.id, session=session)
        ids = {"idle": idle.id, "in_case": in_case.id, "recent": recent.id}
    result = cli(database_url, "purge")
    assert result.returncode == 0 and "Deleted 1" in result.stdout
    with session_factory(database_url)() as session:
        left = set(session.scalars(select(Conversation.id)))
    assert ids["idle"] not in left and {ids["in_case"], ids["recent"]} <= left


def test_account_changes_from_the_command_line_are_audited_and_end_sessions(database_url: str) -> None:
    created = cli(database_url, "create-user", "--name", "omar", "--role", "staff")
    assert created.returncode == 0, created.stderr
    with session_scope(session_factory(database_url)) as session:
        user = staff.find_user("omar", session=session)
        staff.start_session(user.id, session=session)
    changed = cli(database_url, "set-role", "--name", "omar", "--role", "moderator")
    assert changed.returncode == 0, changed.stderr
    assert cli(database_url, "set-role", "--name", "nobody", "--role", "admin").returncode == 1
    with session_factory(database_url)() as session:
        user = staff.find_user("omar", session=session)
        assert user.role == "moderator"
        assert not session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).all()
        actions = [
            (event.action, event.detail) for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert actions == [
        ("account_created", {"account": user.id, "role": "staff", "by": "command line"}),
        ("role_changed", {"account": user.id, "from": "staff", "to": "moderator", "by": "command line"}),
    ]
