"""Service functions for staff accounts and sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.database import utcnow
from bot.staff.models import CASE_HOLDERS, Role, StaffSession, StaffUser

SESSION_IDLE = timedelta(hours=2)
SESSION_MAX = timedelta(hours=12)

_hasher = PasswordHasher()
# Verifying against this when the username is unknown takes as long as a real
# check, so response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UsernameTaken(Exception):
    pass


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(username: str, role: Role, *, session: Session) -> tuple[StaffUser, str]:
    """A new account and its generated password, which is shown once and never stored."""
    if session.scalars(select(StaffUser).where(StaffUser.username == username)).first():
        raise UsernameTaken(username)
    password = secrets.token_urlsafe(18)
    user = StaffUser(username=username, role=role.value, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user, password


def password_hash_of(username: str, *, session: Session) -> tuple[int, str] | None:
    """The account's id and password hash, read only: the slow check runs outside any transaction."""
    row = session.execute(select(StaffUser.id, StaffUser.password_hash).where(StaffUser.username == username)).first()
    return (row.id, row.password_hash) if row else None


def verify_password(password_hash: str | None, password: str) -> bool:
    """Exactly one argon2 verification whatever the account (unknown, locked or known), so the
    time taken reveals nothing. Never call it inside a database transaction: it is slow on purpose."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def rehashed(password_hash: str, password: str) -> str | None:
    """A new hash when the hashing parameters have changed since this one was made (outside any transaction)."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None


def store_password_hash(user_id: int, password_hash: str, *, session: Session) -> None:
    session.get(StaffUser, user_id).password_hash = password_hash


def start_session(user_id: int, *, session: Session) -> tuple[str, StaffSession]:
    """A new session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = StaffSession(
        id=_token_hash(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX,
    )
    session.add(record)
    session.flush()
    return token, record


def resume_session(token: str | None, *, active: bool, session: Session) -> tuple[StaffUser, StaffSession] | None:
    """The signed-in user for a cookie token, if the session is still valid. Only what the person
    does (active) restarts the idle timer, not the console refreshing itself, so an unattended
    console does sign out."""
    if not token:
        return None
    record = session.get(StaffSession, _token_hash(token))
    now = utcnow()
    if record is None or record.expires_at <= now or record.last_seen_at + SESSION_IDLE <= now:
        return None
    if active:
        record.last_seen_at = now
    user = session.get(StaffUser, record.user_id)
    return (user, record) if user else None


def end_session(token: str, *, session: Session) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id == _token_hash(token)))


def end_all_sessions(user_id: int, *, session: Session) -> None:
    """Sign out everywhere."""
    session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


def set_on_shift(user: StaffUser, on_shift: bool, *, session: Session) -> None:
    user.on_shift = on_shift


def staff_on_shift(*, session: Session) -> int:
    """Workers on shift with a live session: the people who could take a case now."""
    now = utcnow()
    return len(
        session.scalars(
            select(StaffUser.id)
            .join(StaffSession, StaffSession.user_id == StaffUser.id)
            .where(
                StaffUser.on_shift.is_(True),
                StaffUser.role.in_(CASE_HOLDERS),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at > now - SESSION_IDLE,
            )
            .distinct()
        ).all()
    )


def find_user(username: str, *, session: Session) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def change_role(user: StaffUser, role: Role, *, session: Session) -> None:
    """A new role takes effect at once: the account's sessions end, so it signs in again under it."""
    user.role = role.value
    end_all_sessions(user.id, session=session)
