"""Every failure answers with a clear JSON error and never a stack trace."""

from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.rate_limits import RateLimited

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorOut(BaseModel):
    """Every error's body: a code for the widget to act on, and words for the young person."""

    error: str
    message: str
    # 422 only: which fields of the request were wrong.
    fields: list[FieldProblem] | None = None
    # 503 only: the fail-safe reply (Childline, 999), message by message.
    messages: list[str] | None = None


ERROR_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "No token for this conversation",
    403: "The wrong token for this conversation",
    404: "No such conversation (or come-back code)",
    409: "Refused while a safeguarding case is open",
    413: "The request body is over BOT_MAX_BODY_BYTES",
    422: "An invalid request: empty, over-long or non-text message, an image sent as data, a stale button",
    429: "Too many requests: wait for Retry-After seconds",
    500: "Something unexpected failed; the message says where to get help meanwhile",
    503: "The database cannot be reached: the fail-safe message",
}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """The OpenAPI description of these error answers, so clients (and the schema fuzzer) know them."""
    responses: dict[int | str, dict] = {
        status: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[status]} for status in statuses
    }
    if 429 in responses:
        responses[429]["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}
        }
    return responses


# What any request may be answered with, whatever the operation: the body limit is checked before
# routing, the database may be away, and an unexpected failure still answers in JSON.
ANY_REQUEST_ERRORS = (413, 500, 503)


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
