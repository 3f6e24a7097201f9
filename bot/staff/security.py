"""Who is signed in, what their role allows, and CSRF protection for the console."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request, WebSocket
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from bot.errors import ApiError
from bot.settings import Settings
from bot.staff import service
from bot.staff.models import CASE_HOLDERS, Role

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_HEADER = "x-csrf-token"

# What each role may do. Staff hold cases; leads also run the shift; moderators review ended conversations.
CAN_TAKE_CASES = set(CASE_HOLDERS)
CAN_LEAD_SHIFT = {Role.LEAD.value, Role.ADMIN.value}
CAN_MODERATE = {Role.MODERATOR.value, Role.ADMIN.value}
ANY_ROLE = {role.value for role in Role}


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    role: str
    on_shift: bool
    csrf_token: str


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and path /.
    return "__Host-staff_session" if settings.cookie_secure else "staff_session"


def _resume(*, token: str | None, active: bool, session: Session) -> SignedIn | None:
    found = service.resume_session(token, active=active, session=session)
    if found is None:
        return None
    user, record = found
    return SignedIn(user.id, user.username, user.role, user.on_shift, record.csrf_token)


async def signed_in(connection: Request | WebSocket, *, active: bool = False) -> SignedIn | None:
    """The signed-in user; active when the request is something the person did (a page opened,
    a change made), which keeps the session from idling out."""
    services = connection.app.state.services
    token = connection.cookies.get(session_cookie_name(services.settings))
    return await services.db(_resume, token=token, active=active)


def require_role(allowed: set[str]):
    """A dependency: the signed-in user, if their role is allowed; checks CSRF on changes."""

    async def dependency(request: Request) -> SignedIn:
        words = request.app.state.services.console
        user = await signed_in(request, active=request.method in UNSAFE_METHODS)
        if user is None:
            raise ApiError(401, "signed_out", words.error("signed_out"))
        if user.role not in allowed:
            raise ApiError(403, "forbidden", words.error("forbidden"))
        if request.method in UNSAFE_METHODS and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, ""), user.csrf_token
        ):
            raise ApiError(403, "csrf", words.error("csrf"))
        return user

    return dependency


async def page_user(request: Request, allowed: set[str], elsewhere: str) -> SignedIn | RedirectResponse:
    """The signed-in user for a page, or where to send them instead."""
    user = await signed_in(request, active=True)
    if user is None:
        return RedirectResponse("/console/login", status_code=303)
    if user.role not in allowed:
        return RedirectResponse(elsewhere, status_code=303)
    return user


def same_origin(websocket: WebSocket) -> bool:
    """A browser sends the page's origin with a WebSocket; refuse other sites' pages."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    return origin is not None and host is not None and origin.split("://", 1)[-1] == host
