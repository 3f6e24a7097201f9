"""Transcript review for moderators: ended conversations only, identifying details hidden,
every read recorded in the audit log. An admin may open a live conversation, giving a reason."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr
from sqlalchemy.orm import Session

from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.content import Content
from bot.conversation import service as conversations
from bot.database import LARGEST_INTEGER, utcnow
from bot.errors import ApiError
from bot.moderation import corrections, service
from bot.moderation.models import FlagKind
from bot.moderation.redaction import load_redactor
from bot.staff.models import Role, StaffUser
from bot.staff.security import CAN_MODERATE, SignedIn, page_user, require_role
from bot.templating import templates_for
from safeguarding.risk_model import CRITERIA
from safeguarding.vocabulary import Level

router = APIRouter(prefix="/moderation", include_in_schema=False)
templates = templates_for(__file__)
moderator = require_role(CAN_MODERATE)
admin = require_role({Role.ADMIN.value})
REASON_MAX_CHARS = 300


def _quiet_since(request: Request) -> datetime:
    return utcnow() - timedelta(minutes=request.app.state.services.settings.ended_after_minutes)


@router.get("", response_class=HTMLResponse)
async def moderation_page(request: Request) -> Response:
    user = await page_user(request, CAN_MODERATE, elsewhere="/console")
    if isinstance(user, Response):
        return user
    console = request.app.state.services.console
    return templates.TemplateResponse(
        request,
        "moderation.html",
        {
            "user": user,
            "outcomes": console.entries["outcomes"],
            "flag_kinds": console.entries["flag_kinds"],
            "criteria": list(CRITERIA),
            "intents": sorted(service.known_intents()),
            "low_confidence_below": request.app.state.services.settings.low_confidence_below,
        },
    )


@router.get("/api/conversations")
async def list_conversations(
    request: Request,
    since: date | None = None,
    until: date | None = None,
    level: Level | None = None,
    outcome: str | None = Query(None, max_length=32),
    flag: FlagKind | None = None,
    low_confidence: bool = False,
    fallback: bool = False,
    user: SignedIn = Depends(moderator),
) -> dict[str, Any]:
    settings = request.app.state.services.settings
    conversation_ids = await anyio.to_thread.run_sync(
        lambda: service.turn_matches(
            low_confidence_below=settings.low_confidence_below if low_confidence else None,
            fallback=fallback,
            tracker_url=settings.rasa_tracker_url,
        )
    )
    filters = service.Filters(
        since=datetime.combine(since, time.min, timezone.utc) if since else None,
        until=datetime.combine(until, time.max, timezone.utc) if until else None,
        level=level.value if level else None,
        outcome=outcome,
        flag=flag.value if flag else None,
        conversation_ids=conversation_ids,
    )
    listing = await request.app.state.services.db(
        service.recent_conversations,
        quiet_since=_quiet_since(request),
        include_live=user.role == Role.ADMIN.value,
        filters=filters,
    )
    return {"conversations": listing}


def _may_review(
    *, conversation_id: str, reason: str, user: SignedIn, quiet_since: datetime, words: Content, session: Session
) -> dict[str, Any]:
    """Moderators may review ended conversations; an admin any, with a reason (returned to be recorded)."""
    if conversations.get_or_none(conversation_id, session=session) is None:
        raise ApiError(404, "not_found", words.error("no_conversation"))
    if service.is_ended(conversation_id, quiet_since=quiet_since, session=session):
        return {}
    if user.role != Role.ADMIN.value:
        raise ApiError(403, "not_ended", words.error("not_ended"))
    if not reason:
        raise ApiError(422, "reason_needed", words.error("reason_needed"))
    return {"live": True, "reason": reason}


def _open_for_review(*, purpose: str, after: int, **access) -> None:
    """Every opening of a conversation's words is audited."""
    detail = {"purpose": purpose, "after": after, **_may_review(**access)}
    audit.record(
        AuditAction.TRANSCRIPT_READ,
        actor_id=access["user"].user_id,
        conversation_id=access["conversation_id"],
        detail=detail,
        session=access["session"],
    )


def _transcript(*, after: int, **opening) -> list[dict[str, Any]]:
    _open_for_review(purpose="moderation", after=after, **opening)
    return conversations.public_events_after(opening["conversation_id"], after, session=opening["session"])


@router.get("/api/conversations/{conversation_id}/transcript")
async def transcript(
    conversation_id: str,
    request: Request,
    after: int = Query(0, ge=0, le=LARGEST_INTEGER),
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


@router.get("/api/conversations/{conversation_id}/turns")
async def turns(
    conversation_id: str,
    request: Request,
    reason: str = Query("", max_length=REASON_MAX_CHARS),
    user: SignedIn = Depends(moderator),
) -> dict[str, Any]:
    """Per turn: what the young person said (redacted), the intent and confidence, the risk
    decision and the bot's replies, from Rasa's tracker store; and the turn's flags."""
    services = request.app.state.services
    await services.db(
        _open_for_review,
        conversation_id=conversation_id,
        purpose="review",
        after=0,
        reason=reason.strip(),
        user=user,
        quiet_since=_quiet_since(request),
        words=services.console,
    )
    review = await anyio.to_thread.run_sync(
        lambda: service.review_turns(
            conversation_id,
            tracker_url=services.settings.rasa_tracker_url,
            redactor=load_redactor(services.settings.content_dir),
            low_confidence_below=services.settings.low_confidence_below,
        )
    )
    return {"turns": review}


class FlagIn(BaseModel):
    turn: StrictInt = Field(ge=1, le=LARGEST_INTEGER)
    kind: FlagKind
    right_intent: StrictStr | None = Field(default=None, max_length=64)
    criteria: list[StrictStr] = Field(default_factory=list, max_length=8)
    note: StrictStr | None = Field(default=None, max_length=2000)


@router.post("/api/conversations/{conversation_id}/flags", status_code=201)
async def add_flag(
    conversation_id: str, body: FlagIn, request: Request, user: SignedIn = Depends(moderator)
) -> dict[str, Any]:
    services = request.app.state.services

    def flag(*, session: Session) -> int:
        _may_review(
            conversation_id=conversation_id,
            reason=request.query_params.get("reason", "").strip()[:REASON_MAX_CHARS],
            user=user,
            quiet_since=_quiet_since(request),
            words=services.console,
            session=session,
        )
        try:
            return service.add_flag(
                conversation_id,
                turn=body.turn,
                kind=body.kind,
                right_intent=body.right_intent,
                criteria=body.criteria,
                note=(body.note or "").strip() or None,
                flagged_by_id=user.user_id,
                session=session,
            ).id
        except service.InvalidFlag as problem:
            raise ApiError(422, str(problem), services.console.error(str(problem))) from None

    return {"flag": await services.db(flag)}


def _flag_list(*, kind: str | None, session: Session) -> dict[str, Any]:
    names = dict(session.query(StaffUser.id, StaffUser.username).all())
    return {
        "counts": service.flag_counts(session=session),
        "flags": [
            {
                "id": flag.id,
                "conversation_id": flag.conversation_id,
                "turn": flag.turn,
                "kind": flag.kind,
                "right_intent": flag.right_intent,
                "criteria": flag.criteria,
                "note": flag.note,
                "by": names.get(flag.flagged_by_id),
                "at": flag.at.isoformat(),
            }
            for flag in service.flags(kind=kind, session=session)
        ],
    }


@router.get("/api/flags")
async def list_flags(
    request: Request, kind: FlagKind | None = None, _user: SignedIn = Depends(moderator)
) -> dict[str, Any]:
    """Every flag, and how many of each kind (missed handoffs first)."""
    return await request.app.state.services.db(_flag_list, kind=kind.value if kind else None)


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


def _corrections_zip(*, user: SignedIn, content_dir, session: Session) -> bytes:
    """The flagged turns, redacted, as the review files of `make export-corrections`; audited."""
    files, exported = corrections.review_files(redactor=load_redactor(content_dir), session=session)
    audit.record(
        AuditAction.EXPORT,
        actor_id=user.user_id,
        detail={"what": "corrections", "nlu_examples": exported.nlu_examples, "risk_examples": exported.risk_examples},
        session=session,
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as written:
        for name, text in files.items():
            written.writestr(name, text)
    return archive.getvalue()


@router.get("/export/corrections.zip")
async def export_corrections(request: Request, user: SignedIn = Depends(moderator)) -> Response:
    services = request.app.state.services
    archive = await services.db(_corrections_zip, user=user, content_dir=services.settings.content_dir)
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="corrections-for-review.zip"'},
    )
