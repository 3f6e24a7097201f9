"""The young person's privacy: the privacy page linked from the widget (GET /privacy), and deleting
their chat (DELETE /api/conversations/{id}, part of the teen API). Deleting lives here, not in the
conversation package, because it must know about cases, which belong to conversations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from bot.conversation.views import CONVERSATION_ERRORS, TEEN_API_ERRORS, bearer_token, count_client_request
from bot.errors import error_responses
from bot.privacy import flows
from bot.services import services_of
from bot.settings import Settings
from bot.templating import templates_for

router = APIRouter(include_in_schema=False)
teen_api = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=TEEN_API_ERRORS)
templates = templates_for(__file__)
DAYS_PER_YEAR = 365


@cache
def _words(content_dir: Path) -> dict:
    return yaml.safe_load((content_dir / "privacy.yml").read_text(encoding="utf-8"))


def _period(days: int, words: dict) -> str:
    years, rest = divmod(days, DAYS_PER_YEAR)
    if rest or not years:
        return words["period_days"].format(count=days)
    return words["period_one_year"] if years == 1 else words["period_years"].format(count=years)


def page_words(settings: Settings) -> dict:
    """The page's words with the service's real retention periods and come-back code hours filled in."""
    words = _words(settings.content_dir)
    periods = {
        "retention_days": settings.transcript_retention_days,
        "outcome_period": _period(settings.outcome_retention_days, words),
        "comeback_hours": settings.comeback_hours,
    }
    return {
        "title": words["title"],
        "intro": words["intro"],
        "sections": [
            {"heading": section["heading"], "paragraphs": [text.format(**periods) for text in section["paragraphs"]]}
            for section in words["sections"]
        ],
    }


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "privacy.html", page_words(request.app.state.services.settings))


@teen_api.delete(
    "/{conversation_id}",
    status_code=204,
    responses={**CONVERSATION_ERRORS, **error_responses(409)},
    dependencies=[Depends(count_client_request)],
)
async def delete_conversation(conversation_id: str, request: Request) -> Response:
    services = services_of(request)
    refused = await services.db(
        flows.delete_chat,
        conversation_id=conversation_id,
        token=bearer_token(request),
        content=services.content,
        tracker_url=services.settings.rasa_tracker_url,
    )
    if refused is not None:
        raise refused
    return Response(status_code=204)
