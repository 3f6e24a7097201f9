"""Transcript review for moderators: ended conversations only, identifying details hidden,
every read recorded in the audit log. An admin may open a live conversation, giving a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.content import Content
from bot.conversation import service as conversations
from bot.database import utcnow
from bot.errors import ApiError
from bot.moderation import service
from bot.moderation.redaction import load_redactor
from bot.staff.models import Role, StaffUser
from bot.staff.security import CAN_MODERATE, SignedIn, page_user, require_role
from bot.templating import templates_for

router = APIRouter(prefix="/moderation", include_in_schema=False)
templates = templates_for(__file__)
moderator = require_role(CAN_MODERATE)
admin = require_role({Role.ADMIN.value})
REASON_MAX_CHARS = 300


def _quiet_since(request: Request):
    return utcnow() - timedelta(minutes=request.app.state.services.settings.ended_after_minutes)


@router.get("", response_class=HTMLResponse)
async def moderation_page(request: Request) -> Response:
    user = await page_user(request, CAN_MODERATE, elsewhere="/console")
    if isinstance(user, Response):
        return user
    return templates.TemplateResponse(request, "moderation.html", {"user": user})


@router.get("/api/conversations")
async def list_conversations(request: Request, user: SignedIn = Depends(moderator)) -> dict[str, Any]:
    listing = await request.app.state.services.db(
        service.recent_conversations, quiet_since=_quiet_since(request), include_live=user.role == Role.ADMIN.value
    )
    return {"conversations": listing}


def _transcript(
    *, conversation_id: str, after: int, reason: str, user: SignedIn, quiet_since, words: Content, session: Session
) -> list[dict[str, Any]]:
    if conversations.get_or_none(conversation_id, session=session) is None:
        raise ApiError(404, "not_found", words.error("no_conversation"))
    detail: dict[str, Any] = {"purpose": "moderation", "after": after}
    if not service.is_ended(conversation_id, quiet_since=quiet_since, session=session):
        if user.role != Role.ADMIN.value:
            raise ApiError(403, "not_ended", words.error("not_ended"))
        if not reason:
            raise ApiError(422, "reason_needed", words.error("reason_needed"))
        detail |= {"live": True, "reason": reason}
    audit.record(
        AuditAction.TRANSCRIPT_READ,
        actor_id=user.user_id,
        conversation_id=conversation_id,
        detail=detail,
        session=session,
    )
    return conversations.public_events_after(conversation_id, after, session=session)


@router.get("/api/conversations/{conversation_id}/transcript")
async def transcript(
    conversation_id: str,
    request: Request,
    after: int = Query(0, ge=0),
    reason: str = Query("", max_length=REASON_MAX_CHARS),
    user: SignedIn = Depends(moderator),
) -> dict[str, Any]:
    services = request.app.state.services
    events = await services.db(
        _transcript,
        conversation_id=conversation_id,
        after=after,
        reason=reason.strip(),
        user=user,
        quiet_since=_quiet_since(request),
        words=services.console,
    )
    return {"events": service.redacted(events, load_redactor(services.settings.content_dir))}


def _audit_log(*, session: Session) -> list[dict[str, Any]]:
    names = dict(session.query(StaffUser.id, StaffUser.username).all())
    return [
        {
            "at": event.at.isoformat(),
            "action": event.action,
            "actor": names.get(event.actor_id),
            "conversation_id": event.conversation_id,
            "case_id": event.case_id,
            "detail": event.detail,
        }
        for event in audit.recent(session=session)
    ]


@router.get("/api/audit")
async def audit_log(request: Request, _user: SignedIn = Depends(admin)) -> dict[str, Any]:
    """Who read, exported or deleted what, role changes and sign-ins: for admins."""
    return {"events": await request.app.state.services.db(_audit_log)}
