"""Serves the widget script (with its words from content/widget.yml) and a page that embeds it.

A website embeds the widget with one line:

    <script src="https://HOST/widget.js" data-exit-url="https://www.bbc.co.uk/weather" defer></script>
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.settings import PROJECT_ROOT
from bot.templating import templates_for

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
templates = templates_for(__file__)


@lru_cache(maxsize=1)
def widget_script() -> str:
    words = yaml.safe_load((PROJECT_ROOT / "content" / "widget.yml").read_text(encoding="utf-8"))
    words.pop("sources", None)
    script = (STATIC / "widget.js").read_text(encoding="utf-8")
    return script.replace("/*WIDGET_WORDS*/{}", json.dumps(words, ensure_ascii=False))


@router.get("/widget.js")
async def widget() -> Response:
    return Response(
        widget_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/", response_class=HTMLResponse)
async def demo_page(request: Request) -> HTMLResponse:
    """A page with the one-line embed, as a helpline's website would have it."""
    return templates.TemplateResponse(request, "embed.html", {})
