"""The widget: a one-line loader for any website, and the chat it opens in a frame of the service's own origin.

A website embeds it with one line (README, "The widget"):

    <script src="https://HOST/widget.js" data-exit-url="https://www.bbc.co.uk/weather" defer></script>

widget.js draws only a launcher and a Quick exit button on the host page and opens
/widget/frame in an iframe. The conversation (its token and every message) lives only
in the frame's origin, so no script of the host page can read it. The frame's
Content-Security-Policy `frame-ancestors` lets only the service's own pages and the
websites in BOT_EMBED_ORIGINS show it.

No CORS: the host page never calls the API. Only the frame does, and it is served
from the API's own origin, so the browser sends no preflight and needs no
Access-Control-* header.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import ValidationError

from bot.conversation.views import ConversationIn
from bot.settings import ORIGIN, PROJECT_ROOT
from bot.templating import templates_for

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
templates = templates_for(__file__)

HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
LONGEST_SERVICE_NAME = 60
DEFAULTS = {"exit_url": "https://www.bbc.co.uk/weather", "colour": "#4b2a83", "text_colour": "#ffffff"}
STATIC_CACHE = "public, max-age=300"


@cache
def widget_words() -> dict[str, str]:
    words = yaml.safe_load((PROJECT_ROOT / "content" / "widget.yml").read_text(encoding="utf-8"))
    words.pop("sources", None)
    return words


@cache
def loader_script(embed_origins: tuple[str, ...]) -> str:
    # The words travel inside the script, so the launcher and the message for a website
    # not on the list show even when the service cannot be reached.
    setup = {"words": widget_words(), "defaults": DEFAULTS, "embed_origins": list(embed_origins)}
    script = (STATIC / "widget.js").read_text(encoding="utf-8")
    return script.replace("/*WIDGET_SETUP*/{}", json.dumps(setup, ensure_ascii=False))


def frame_policy(embed_origins: tuple[str, ...]) -> str:
    """The frame runs only its own script and style, talks only to its own origin, shows
    no image from anywhere, and only the service's pages and the listed websites may frame it."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors " + " ".join(["'self'", *embed_origins]),
        ]
    )


@dataclass(frozen=True)
class FrameOptions:
    """What the loader passes in the frame's address, from the host page's data- attributes,
    checked here because a host page can put anything there."""

    host: str | None
    service_name: str
    nation: str | None
    colour: str
    text_colour: str
    exit_url: str

    @classmethod
    def from_query(cls, query, *, embed_origins: tuple[str, ...], own_host: str) -> FrameOptions:
        return cls(
            host=_allowed_host(query.get("host", ""), embed_origins=embed_origins, own_host=own_host),
            service_name=(query.get("name") or "").strip()[:LONGEST_SERVICE_NAME] or widget_words()["title"],
            nation=_nation(query.get("nation")),
            colour=_colour(query.get("colour"), DEFAULTS["colour"]),
            text_colour=_colour(query.get("text_colour"), DEFAULTS["text_colour"]),
            exit_url=_web_address(query.get("exit_url")) or DEFAULTS["exit_url"],
        )


def _allowed_host(host: str, *, embed_origins: tuple[str, ...], own_host: str) -> str | None:
    """The host page's origin, which the frame answers with postMessage, if it may embed the chat."""
    host = host.lower().rstrip("/")
    if not ORIGIN.match(host):
        return None
    return host if host in embed_origins or urlsplit(host).netloc == own_host.lower() else None


def _nation(value: str | None) -> str | None:
    try:
        return ConversationIn(nation=value or None).nation
    except ValidationError:
        return None


def _colour(value: str | None, default: str) -> str:
    return value if value and HEX_COLOUR.match(value) else default


def _web_address(value: str | None) -> str | None:
    parts = urlsplit(value or "")
    return value if parts.scheme in {"http", "https"} and parts.netloc else None


@router.get("/widget.js")
async def loader(request: Request) -> Response:
    return Response(
        loader_script(request.app.state.services.settings.embed_origins),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": STATIC_CACHE},
    )


@router.get("/widget/frame", response_class=HTMLResponse)
async def frame(request: Request) -> HTMLResponse:
    """The chat itself. A host that may not embed it gets Childline's number instead."""
    embed_origins = request.app.state.services.settings.embed_origins
    options = FrameOptions.from_query(
        request.query_params, embed_origins=embed_origins, own_host=request.headers.get("host", "")
    )
    setup = {
        "words": widget_words(),
        "host": options.host,
        "nation": options.nation,
        "colour": options.colour,
        "text_colour": options.text_colour,
        "exit_url": options.exit_url,
    }
    return templates.TemplateResponse(
        request,
        "frame.html",
        {"options": options, "words": widget_words(), "setup": setup},
        headers={
            "Content-Security-Policy": frame_policy(embed_origins),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/widget/frame.js")
async def frame_script() -> FileResponse:
    return FileResponse(
        STATIC / "frame.js", media_type="text/javascript; charset=utf-8", headers={"Cache-Control": STATIC_CACHE}
    )


@router.get("/widget/frame.css")
async def frame_style() -> FileResponse:
    return FileResponse(
        STATIC / "frame.css", media_type="text/css; charset=utf-8", headers={"Cache-Control": STATIC_CACHE}
    )


@router.get("/", response_class=HTMLResponse)
async def demo_page(request: Request) -> HTMLResponse:
    """A page with the one-line embed, as a helpline's website would have it."""
    return templates.TemplateResponse(request, "embed.html", {})
