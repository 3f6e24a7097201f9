"""Every failure answers with a clear JSON error and never a stack trace."""

from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.rate_limits import RateLimited

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message, **extra})


def install_error_handlers(app: FastAPI) -> None:
    content = app.state.services.content

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(RateLimited)
    async def rate_limited(_request: Request, error: RateLimited) -> JSONResponse:
        response = error_response(429, "too_many_requests", content.error("too_many_requests"))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, "bad_json", content.error("bad_request"))
        fields = [
            {"field": ".".join(str(part) for part in problem.get("loc", ())[1:]), "problem": problem.get("msg", "")}
            for problem in problems
        ]
        if any(
            problem.get("type") == "string_too_long" and problem.get("loc", ())[1:] == ("text",) for problem in problems
        ):
            limit = app.state.services.settings.max_message_chars
            return error_response(
                422, "message_too_long", content.error("message_too_long", limit=limit), fields=fields
            )
        code = "not_text" if any(f["field"] == "text" for f in fields) else "invalid_request"
        message = content.error("not_text") if code == "not_text" else content.error("bad_request")
        return error_response(422, code, message, fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        return error_response(error.status_code, "http_error", str(error.detail))

    @app.exception_handler(DBAPIError)
    async def database_down(_request: Request, error: DBAPIError) -> JSONResponse:
        logger.error("database error: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
        return error_response(
            503, "unavailable", content.text("failsafe_storage"), messages=content.messages("failsafe_storage")
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        # Where it failed and the error's type, not its text: that could quote a young person's words.
        logger.error("unexpected error %s\n%s", type(error).__name__, "".join(traceback.format_tb(error.__traceback__)))
        return error_response(500, "server_error", content.error("server_error"))
