"""Sign-in and sign-out for helpline staff and moderators."""

from __future__ import annotations

import hmac
import secrets

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.rate_limits import RateLimited
from bot.staff import service
from bot.staff.models import StaffUser
from bot.staff.security import ANY_ROLE, CAN_TAKE_CASES, SignedIn, require_role, session_cookie_name, signed_in
from bot.templating import templates_for

router = APIRouter(include_in_schema=False)
templates = templates_for(__file__)
LOGIN_CSRF_COOKIE = "login_csrf"


def _home(role: str) -> str:
    return "/console" if role in CAN_TAKE_CASES else "/moderation"


def _login_page(request: Request, error_key: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    secure = request.app.state.services.settings.cookie_secure
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": token, "error": request.app.state.services.console.error(error_key) if error_key else None},
        status_code=status,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=secure, samesite="strict", path="/console")
    return response


@router.get("/console/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    user = await signed_in(request)
    if user is not None:
        return RedirectResponse(_home(user.role), status_code=303)
    return _login_page(request)


@router.post("/console/login")
async def login(
    request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form("")
) -> Response:
    services = request.app.state.services
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, "login_expired", status=403)
    limits = services.rate_limits
    client = limits.client_key(request.client.host if request.client else None)
    try:
        await limits.hit(limits.client_logins, "login", client)
    except RateLimited as limited:
        response = _login_page(request, "login_refused", status=429)
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    username = username.strip()
    lockout = (limits.login_failures, "login-failures", username, client)
    locked = await limits.exhausted(*lockout)
    account = await services.db(service.password_hash_of, username=username)
    # The same single argon2 check for a locked, an unknown and a known account, outside any
    # transaction (SQLite takes its write lock when a transaction begins).
    valid = await anyio.to_thread.run_sync(service.verify_password, account[1] if account else None, password)
    if locked or account is None or not valid:
        if not locked:
            await limits.count(*lockout)
        await services.db(_record_failed_sign_in, user_id=account[0] if account else None)
        # The same answer for a wrong name, a wrong password and a locked account.
        return _login_page(request, "login_refused", status=401)
    await limits.forget(*lockout)
    user_id, password_hash = account
    new_hash = await anyio.to_thread.run_sync(service.rehashed, password_hash, password)
    if new_hash is not None:
        await services.db(service.store_password_hash, user_id=user_id, password_hash=new_hash)
    token, role = await services.db(_start_session, user_id=user_id)
    response = RedirectResponse(_home(role), status_code=303)
    response.set_cookie(
        session_cookie_name(services.settings),
        token,
        httponly=True,
        secure=services.settings.cookie_secure,
        samesite="strict",
        path="/",
        max_age=int(service.SESSION_MAX.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


def _start_session(*, user_id: int, session) -> tuple[str, str]:
    audit.record(AuditAction.SIGNED_IN, actor_id=user_id, session=session)
    token, _ = service.start_session(user_id, session=session)
    return token, session.get(StaffUser, user_id).role


def _record_failed_sign_in(*, user_id: int | None, session) -> None:
    # Whose account was tried, when it exists; never what was typed, which may be a password.
    audit.record(AuditAction.SIGN_IN_FAILED, actor_id=user_id, session=session)


def _signed_out(request: Request) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(session_cookie_name(request.app.state.services.settings), path="/")
    return response


@router.post("/console/logout")
async def logout(request: Request, _user: SignedIn = Depends(require_role(ANY_ROLE))) -> Response:
    services = request.app.state.services
    token = request.cookies.get(session_cookie_name(services.settings), "")
    await services.db(service.end_session, token=token)
    return _signed_out(request)


@router.post("/console/logout-everywhere")
async def logout_everywhere(request: Request, user: SignedIn = Depends(require_role(ANY_ROLE))) -> Response:
    await request.app.state.services.db(service.end_all_sessions, user_id=user.user_id)
    return _signed_out(request)
