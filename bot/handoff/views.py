"""The helpline console: the live queue, claiming cases, chatting, closing.

Every endpoint takes the signed-in worker from their server-side session and
shows only the queue and the cases that worker holds.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, StrictBool, StrictStr

from bot.database import LARGEST_INTEGER, utcnow
from bot.errors import ApiError
from bot.handoff import flows
from bot.handoff.models import Case
from bot.notify import conversation_channel, push_until_closed
from bot.staff import service as staff
from bot.staff.security import CAN_LEAD_SHIFT, CAN_TAKE_CASES, SignedIn, page_user, require_role, same_origin, signed_in
from bot.templating import templates_for

router = APIRouter(prefix="/console", include_in_schema=False)
templates = templates_for(__file__)
worker = require_role(CAN_TAKE_CASES)
# Watching any live case and reassigning it is for whoever leads the shift.
lead = require_role(CAN_LEAD_SHIFT)
REFRESH_SECONDS = 20.0
# Ids and sequence numbers the database can hold; anything else is refused as invalid (422).
CaseId = Annotated[int, Path(ge=1, le=LARGEST_INTEGER)]
AFTER = Query(0, ge=0, le=LARGEST_INTEGER)


class ShiftIn(BaseModel):
    on_shift: StrictBool


class WorkerMessageIn(BaseModel):
    text: StrictStr = Field(max_length=4000)


class ReassignIn(BaseModel):
    worker: StrictStr = Field(max_length=64)


class CloseIn(BaseModel):
    outcome: StrictStr
    note: StrictStr | None = Field(default=None, max_length=4000)


def summary(case: Case, *, with_quotes: bool) -> dict[str, Any]:
    """What a worker sees of a case: quotes of the young person's words only once they hold it."""
    reasons = list(dict.fromkeys(cue["label"] for cue in case.cues if cue.get("label")))
    data = {
        "id": case.id,
        "level": case.level,
        "status": case.status,
        "criteria": case.criteria,
        "reasons": reasons,
        "age_band": case.age_band,
        "nation": case.nation,
        "created_at": case.created_at.isoformat(),
        "waiting_seconds": int((utcnow() - case.created_at).total_seconds()),
        "detected_by": case.detected_by,
    }
    if with_quotes:
        data["conversation_id"] = case.conversation_id
        data["cues"] = [cue for cue in case.cues if cue.get("quote")]
    return data


def _shown(state: flows.ConsoleState) -> dict[str, Any]:
    shown = {
        "queue": [summary(case, with_quotes=False) for case in state.queue],
        "page": state.page,
        "pages": state.pages,
        "health": state.health,
        "held": [summary(case, with_quotes=True) for case in state.held],
        "on_shift": state.on_shift,
        "workers_on_shift": state.workers_on_shift,
    }
    if state.in_hand is not None:
        # For a shift lead: every case a worker holds, who holds it and for how long; no quotes.
        shown["in_hand"] = [
            {
                **summary(case, with_quotes=False),
                "holder": holder,
                "held_seconds": int((utcnow() - case.claimed_at).total_seconds()),
            }
            for case, holder in state.in_hand
        ]
    return shown


def _not_available(request: Request) -> ApiError:
    return ApiError(409, "case_not_available", request.app.state.services.console.error("case_not_available"))


@router.get("", response_class=HTMLResponse)
async def console_page(request: Request) -> Response:
    user = await page_user(request, CAN_TAKE_CASES, elsewhere="/moderation")
    if isinstance(user, Response):
        return user
    console = request.app.state.services.console
    return templates.TemplateResponse(
        request,
        "console.html",
        {
            "user": user,
            "leads_shift": user.role in CAN_LEAD_SHIFT,
            "snippets": console.entries["snippets"],
            "outcomes": console.entries["outcomes"],
        },
    )


@router.get("/api/state")
async def state(request: Request, page: int = Query(0, ge=0), user: SignedIn = Depends(worker)) -> dict[str, Any]:
    return _shown(
        await request.app.state.services.read(
            flows.console_state, user_id=user.user_id, leads_shift=user.role in CAN_LEAD_SHIFT, page=page
        )
    )


@router.post("/api/shift")
async def set_shift(body: ShiftIn, request: Request, user: SignedIn = Depends(worker)) -> dict[str, Any]:
    services = request.app.state.services
    state = await services.db(
        flows.set_on_shift, user_id=user.user_id, leads_shift=user.role in CAN_LEAD_SHIFT, on_shift=body.on_shift
    )
    await services.notifier.publish(flows.QUEUE_CHANNEL)
    return _shown(state)


async def _change_case(request: Request, flow, **kwargs) -> Case:
    """Run a flow that changes a case, then wake the consoles and the young person's chat."""
    services = request.app.state.services
    try:
        case = await services.db(flow, **kwargs)
    except flows.CaseNotAvailable:
        raise _not_available(request) from None
    await services.notifier.publish(flows.QUEUE_CHANNEL)
    await services.notifier.publish(conversation_channel(case.conversation_id))
    return case


@router.post("/api/cases/{case_id}/claim")
async def claim(case_id: CaseId, request: Request, user: SignedIn = Depends(worker)) -> dict[str, Any]:
    content = request.app.state.services.content
    case = await _change_case(request, flows.claim, case_id=case_id, user_id=user.user_id, content=content)
    return summary(case, with_quotes=True)


@router.post("/api/next")
async def claim_next(request: Request, user: SignedIn = Depends(worker)) -> dict[str, Any]:
    """Take the most urgent waiting case."""
    content = request.app.state.services.content
    case = await _change_case(request, flows.claim_next, user_id=user.user_id, content=content)
    return summary(case, with_quotes=True)


@router.get("/api/cases/{case_id}/events")
async def case_events(
    case_id: CaseId, request: Request, after: int = AFTER, user: SignedIn = Depends(worker)
) -> dict[str, Any]:
    try:
        events = await request.app.state.services.db(
            flows.read_held_case, case_id=case_id, user_id=user.user_id, after=after
        )
    except flows.CaseNotAvailable:
        raise _not_available(request) from None
    return {"events": events}


@router.get("/api/cases/{case_id}/watch")
async def watch(
    case_id: CaseId, request: Request, after: int = AFTER, user: SignedIn = Depends(lead)
) -> dict[str, Any]:
    """A lead reads any open case as it happens; every read is audited."""
    try:
        events = await request.app.state.services.db(
            flows.watch_open_case, case_id=case_id, lead_id=user.user_id, after=after
        )
    except flows.CaseNotAvailable:
        raise _not_available(request) from None
    return {"events": events}


@router.post("/api/cases/{case_id}/reassign")
async def reassign(
    case_id: CaseId, body: ReassignIn, request: Request, user: SignedIn = Depends(lead)
) -> dict[str, Any]:
    services = request.app.state.services
    target = await services.db(staff.find_user, username=body.worker.strip())
    if target is None or target.role not in CAN_TAKE_CASES:
        raise ApiError(422, "no_such_worker", services.console.error("no_such_worker"))
    case = await _change_case(
        request,
        flows.reassign,
        case_id=case_id,
        to_user_id=target.id,
        by_user_id=user.user_id,
        content=services.content,
    )
    return {"reassigned": case.id, "to": target.username}


@router.post("/api/cases/{case_id}/messages", status_code=201)
async def send(
    case_id: CaseId, body: WorkerMessageIn, request: Request, user: SignedIn = Depends(worker)
) -> dict[str, int]:
    text = body.text.strip()
    if not text:
        raise ApiError(422, "empty_message", request.app.state.services.console.error("empty_message"))
    case = await _change_case(request, flows.send_worker_message, case_id=case_id, user_id=user.user_id, text=text)
    return {"case": case.id}


@router.post("/api/cases/{case_id}/typing", status_code=204)
async def typing(case_id: CaseId, request: Request, user: SignedIn = Depends(worker)) -> Response:
    """Shows the young person that the worker is typing; nothing is stored."""
    services = request.app.state.services
    try:
        case = await services.db(flows.held_case, case_id=case_id, user_id=user.user_id)
    except flows.CaseNotAvailable:
        raise _not_available(request) from None
    await services.notifier.publish(conversation_channel(case.conversation_id), {"typing": "human"})
    return Response(status_code=204)


@router.post("/api/cases/{case_id}/release")
async def release(case_id: CaseId, request: Request, user: SignedIn = Depends(worker)) -> dict[str, Any]:
    content = request.app.state.services.content
    case = await _change_case(request, flows.release, case_id=case_id, user_id=user.user_id, content=content)
    return {"released": case.id}


@router.post("/api/cases/{case_id}/close")
async def close(case_id: CaseId, body: CloseIn, request: Request, user: SignedIn = Depends(worker)) -> dict[str, Any]:
    services = request.app.state.services
    if body.outcome not in services.console.entries["outcomes"]:
        raise ApiError(422, "bad_outcome", services.console.error("bad_outcome"))
    note = (body.note or "").strip() or None
    case = await _change_case(
        request,
        flows.close,
        case_id=case_id,
        user_id=user.user_id,
        outcome=body.outcome,
        note=note,
        content=services.content,
    )
    await services.dialogue.hand_back(case.conversation_id)
    return {"closed": case.id}


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Tells the console to refresh whenever the queue or one of its cases changes."""
    user = await signed_in(websocket)
    if user is None or user.role not in CAN_TAKE_CASES or not same_origin(websocket):
        await websocket.close(code=4403)
        return
    await websocket.accept()
    notifier = websocket.app.state.services.notifier
    async with notifier.subscribe(flows.QUEUE_CHANNEL) as subscription:
        await push_until_closed(websocket, lambda: _refresh(websocket, subscription))


async def _refresh(websocket: WebSocket, subscription) -> None:
    await websocket.send_json({"type": "refresh"})
    note = await subscription.next(REFRESH_SECONDS)
    if note and note.get("alert") == flows.CASE_FLOOD_ALERT:
        words = websocket.app.state.services.console
        await websocket.send_json({"type": "alert", "message": words.entries["alerts"][flows.CASE_FLOOD_ALERT]})
