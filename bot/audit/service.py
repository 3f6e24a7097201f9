"""Recording and listing transcript views."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit.models import TranscriptView


def record_view(viewer_id: int, conversation_id: str, purpose: str, *, session: Session) -> None:
    session.add(TranscriptView(viewer_id=viewer_id, conversation_id=conversation_id, purpose=purpose))


def views(*, session: Session, limit: int = 200) -> Sequence[TranscriptView]:
    return session.scalars(select(TranscriptView).order_by(TranscriptView.at.desc()).limit(limit)).all()
