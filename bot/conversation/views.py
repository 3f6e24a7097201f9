"""The teen-facing API: start a conversation, send messages, receive events.

The contract (also in the README and the OpenAPI schema):
- POST /api/conversations -> 201 {"conversation_id", "token"}
- POST /api/conversations/{id}/messages {"client_message_id", "text"} -> {"seq"}
- GET  /api/conversations/{id}/events?after=SEQ&wait=SECONDS -> {"events": [...]}
- WS   /api/conversations/{id}/stream: send {"token", "after"} first, then receive events
- DELETE /api/conversations/{id}: delete the chat, unless a safeguarding case is open (bot/privacy/views.py)
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, StrictStr
from starlette.requests import HTTPConnection

from bot.conversation import flows
from bot.conversation import service as conversations
from bot.database import LARGEST_INTEGER
from bot.errors import ANY_REQUEST_ERRORS, ApiError, error_responses
from bot.notify import conversation_channel, is_typing, push_until_closed
from bot.rate_limits import RateLimited
from bot.services import services_of

# Any operation of the teen API may answer these (privacy/views.py's deletion is one too).
TEEN_API_ERRORS = error_responses(*ANY_REQUEST_ERRORS, 422, 429)
router = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=TEEN_API_ERRORS)
# Operations that take a JSON body, and those about one conversation (which need its token).
JSON_BODY_ERRORS = error_responses(400)
CONVERSATION_ERRORS = error_responses(401, 403, 404)

POLL_SLICE_SECONDS = 5.0
# The longest a client may ask /events to wait (the contract in the README and the OpenAPI schema).
MAX_WAIT_SECONDS = 30
STREAM_HEARTBEAT_SECONDS = 15.0


class ConversationIn(BaseModel):
    # The nation the embedding website serves, so the law is explained for it from the start.
    nation: Literal["england", "wales", "scotland", "northern_ireland", "outside_uk"] | None = None


class ConversationCreated(BaseModel):
    conversation_id: str
    token: str


# The schema's ceiling on a message; BOT_MAX_MESSAGE_CHARS (at most this) is the limit a young
# person is told about.
MESSAGE_CHARS_CEILING = 16000


class MessageIn(BaseModel):
    client_message_id: StrictStr = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    # Not blank: the schema says so, and flows.validate_text refuses a blank one in the young person's words.
    text: StrictStr = Field(max_length=MESSAGE_CHARS_CEILING, json_schema_extra={"pattern": r"\S"})
    # The payload of a quick-reply button the bot offered; the text is the button's title.
    payload: StrictStr | None = Field(default=None, max_length=200)


class ComebackCodeOut(BaseModel):
    code: str
    expires_at: str
    # What the code is, in the young person's words, to show with it.
    messages: list[str]


class ComebackIn(BaseModel):
    code: StrictStr = Field(min_length=1, max_length=40)


class MessageAccepted(BaseModel):
    seq: int


class EventsOut(BaseModel):
    events: list[dict[str, Any]]


async def count_client_request(connection: HTTPConnection) -> None:
    limits = services_of(connection).rate_limits
    await limits.hit(limits.client_requests, "client", limits.client_key(connection.client and connection.client.host))


async def _count_new_conversation(request: Request) -> None:
    limits = services_of(request).rate_limits
    await limits.hit(limits.client_conversations, "new", limits.client_key(request.client and request.client.host))


async def _count_message(conversation_id: str, request: Request) -> None:
    limits = services_of(request).rate_limits
    await limits.hit(limits.conversation_messages, "messages", conversation_id)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@router.post(
    "",
    status_code=201,
    response_model=ConversationCreated,
    responses=JSON_BODY_ERRORS,
    dependencies=[Depends(count_client_request), Depends(_count_new_conversation)],
)
async def start_conversation(request: Request, body: ConversationIn | None = None) -> ConversationCreated:
    services = services_of(request)
    conversation_id, token = await services.db(flows.start, content=services.content)
    if body is not None and body.nation:
        await services.dialogue.remember_nation(conversation_id, body.nation)
    return ConversationCreated(conversation_id=conversation_id, token=token)


@router.post("/comeback", response_model=ConversationCreated, responses={**JSON_BODY_ERRORS, **error_responses(404)})
async def come_back(body: ComebackIn, request: Request) -> ConversationCreated:
    """Open a conversation again with its come-back code; the code is used up and a new token issued."""
    services = services_of(request)
    # Counted across the whole service, not per client: guessing from many addresses is no faster.
    guesses = (services.rate_limits.comeback_failures, "comeback-failures")
    if await services.rate_limits.exhausted(*guesses):
        raise ApiError(429, "too_many_attempts", services.content.error("too_many_attempts"))
    opened = await services.db(flows.come_back, code=body.code)
    if opened is None:
        await services.rate_limits.count(*guesses)
        raise ApiError(404, "comeback_unknown", services.content.error("comeback_unknown"))
    conversation_id, token = opened
    return ConversationCreated(conversation_id=conversation_id, token=token)


@router.post(
    "/{conversation_id}/comeback-code", status_code=201, response_model=ComebackCodeOut, responses=CONVERSATION_ERRORS
)
async def create_comeback_code(conversation_id: str, request: Request) -> ComebackCodeOut:
    services = services_of(request)
    created = await services.db(
        flows.create_comeback_code,
        conversation_id=conversation_id,
        token=bearer_token(request),
        hours=services.settings.comeback_hours,
        content=services.content,
    )
    return ComebackCodeOut(**created)


@router.delete("/{conversation_id}/comeback-code", status_code=204, responses=CONVERSATION_ERRORS)
async def cancel_comeback_code(conversation_id: str, request: Request) -> Response:
    services = services_of(request)
    await services.db(
        flows.cancel_comeback_code,
        conversation_id=conversation_id,
        token=bearer_token(request),
        content=services.content,
    )
    return Response(status_code=204)


@router.post(
    "/{conversation_id}/messages",
    response_model=MessageAccepted,
    status_code=202,
    responses={
        200: {"model": MessageAccepted, "description": "A repeated client_message_id: the original seq"},
        **JSON_BODY_ERRORS,
        **CONVERSATION_ERRORS,
    },
    dependencies=[Depends(count_client_request), Depends(_count_message)],
)
async def send_message(
    conversation_id: str, message: MessageIn, request: Request, response: Response
) -> MessageAccepted:
    services = services_of(request)
    text = flows.validate_text(message.text, services.settings.max_message_chars, services.content)
    seq, created = await services.db(
        flows.receive_message,
        conversation_id=conversation_id,
        token=bearer_token(request),
        client_message_id=message.client_message_id,
        text=text,
        payload=message.payload,
        content=services.content,
    )
    if created:
        services.dialogue.schedule(conversation_id)
        await services.notifier.publish(conversation_channel(conversation_id))
    else:
        response.status_code = 200
    return MessageAccepted(seq=seq)


@router.get(
    "/{conversation_id}/events",
    response_model=EventsOut,
    responses=CONVERSATION_ERRORS,
    dependencies=[Depends(count_client_request)],
)
async def read_events(
    conversation_id: str,
    request: Request,
    after: int = Query(0, ge=0, le=LARGEST_INTEGER, description="The last seq the client has seen"),
    wait: float = Query(0, ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for new events when there are none"),
) -> EventsOut:
    services = services_of(request)
    first_read = partial(
        services.read,
        flows.authorised_events,
        conversation_id=conversation_id,
        token=bearer_token(request),
        after=after,
        content=services.content,
    )
    if wait <= 0:
        return EventsOut(events=await first_read())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    # Subscribed before the first read, so that an event stored after that read wakes this poll:
    # one read before waiting instead of two (one outside the subscription, one inside).
    async with services.notifier.subscribe(conversation_channel(conversation_id)) as subscription:
        events = await first_read()
        while not events and (remaining := deadline - loop.time()) > 0:
            if is_typing(await subscription.next(min(remaining, POLL_SLICE_SECONDS))):
                continue
            events = await services.read(
                conversations.public_events_after, conversation_id=conversation_id, after=after
            )
    return EventsOut(events=events)


@router.websocket("/{conversation_id}/stream")
async def stream_events(websocket: WebSocket, conversation_id: str) -> None:
    """Pushes the same events as /events. The first client message authenticates:
    {"token": "...", "after": SEQ}; the token never goes in the URL, so never in a log."""
    services = services_of(websocket)
    await websocket.accept()
    try:
        await count_client_request(websocket)
    except RateLimited as limited:
        await websocket.send_json(
            {
                "type": "error",
                "error": "too_many_requests",
                "message": services.content.error("too_many_requests"),
                "retry_after": limited.retry_after,
            }
        )
        await websocket.close(code=4429)
        return
    try:
        hello = await asyncio.wait_for(websocket.receive_json(), timeout=10)
        token = hello.get("token") if isinstance(hello, dict) else None
        after = int(hello.get("after", 0)) if isinstance(hello, dict) else 0
        if not 0 <= after <= LARGEST_INTEGER:
            raise ValueError("after is out of range")
        events = await services.read(
            flows.authorised_events,
            conversation_id=conversation_id,
            token=token,
            after=after,
            content=services.content,
        )
    except ApiError as error:
        await websocket.send_json({"type": "error", "error": error.code, "message": error.message})
        await websocket.close(code=4000 + error.status)
        return
    except (asyncio.TimeoutError, ValueError, TypeError, WebSocketDisconnect):
        with contextlib.suppress(Exception):
            await websocket.close(code=4400)
        return

    async with services.notifier.subscribe(conversation_channel(conversation_id)) as subscription:

        async def push_once() -> None:
            nonlocal events, after
            for event in events:
                await websocket.send_json(event)
                after = event["seq"]
            note = await subscription.next(STREAM_HEARTBEAT_SECONDS)
            if is_typing(note):
                await websocket.send_json({"type": "typing", "who": note["typing"]})
                events = []
                return
            events = await services.read(
                conversations.public_events_after, conversation_id=conversation_id, after=after
            )

        await push_until_closed(websocket, push_once)
