"""Transcript review for moderators. Opening a transcript is always recorded in the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bot.audit import service as audit
from bot.conversation import service as conversations
from bot.errors import ApiError
from bot.moderation import service
from bot.staff.models import Role, StaffUser
from bot.staff.security import CAN_MODERATE, SignedIn, page_user, require_role
from bot.templating import templates_for

router = APIRouter(prefix="/moderation", include_in_schema=False)
templates = templates_for(__file__)
moderator = require_role(CAN_MODERATE)
admin = require_role({Role.ADMIN.value})


@router.get("", response_class=HTMLResponse)
async def moderation_page(request: Request) -> Response:
    user = await page_user(request, CAN_MODERATE, elsewhere="/console")
    if isinstance(user, Response):
        return user
    return templates.TemplateResponse(request, "moderation.html", {"user": user})


@router.get("/api/conversations")
async def list_conversations(request: Request, _user: SignedIn = Depends(moderator)) -> dict[str, Any]:
    return {"conversations": await request.app.state.services.db(service.recent_conversations)}


def _transcript(*, conversation_id: str, viewer_id: int, missing: str, session: Session) -> list[dict[str, Any]]:
    if conversations.get_or_none(conversation_id, session=session) is None:
        raise ApiError(404, "not_found", missing)
    audit.record_view(viewer_id, conversation_id, "moderation", session=session)
    return conversations.public_events_after(conversation_id, 0, session=session)


@router.get("/api/conversations/{conversation_id}/transcript")
async def transcript(conversation_id: str, request: Request, user: SignedIn = Depends(moderator)) -> dict[str, Any]:
    services = request.app.state.services
    events = await services.db(
        _transcript,
        conversation_id=conversation_id,
        viewer_id=user.user_id,
        missing=services.console.error("no_conversation"),
    )
    return {"events": events}


def _audit_log(*, session: Session) -> list[dict[str, Any]]:
    names = dict(session.query(StaffUser.id, StaffUser.username).all())
    return [
        {
            "viewer": names.get(view.viewer_id),
            "conversation_id": view.conversation_id,
            "purpose": view.purpose,
            "at": view.at.isoformat(),
        }
        for view in audit.views(session=session)
    ]


@router.get("/api/audit")
async def audit_log(request: Request, _user: SignedIn = Depends(admin)) -> dict[str, Any]:
    """Who opened which transcript and when: for admins."""
    return {"views": await request.app.state.services.db(_audit_log)}
