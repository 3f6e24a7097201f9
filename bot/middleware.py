"""What every HTTP answer carries, and what every request may weigh (pure ASGI, so WebSockets pass untouched)."""

from __future__ import annotations

import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script anywhere (the pages load theirs from files), nothing from other origins,
# and no other site may frame the console or the moderation pages. Inline styles stay allowed:
# the widget styles its shadow root with a <style> element.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Static files that may be cached; everything else (the API, transcripts, the console) may not.
CACHEABLE_PREFIXES = ("/widget.js", "/widget/frame.js", "/widget/frame.css", "/console/static/", "/moderation/static/")
# The interactive API docs load Swagger UI with an inline script; they are served only when enabled.
DOCS_PREFIXES = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if not path.startswith(DOCS_PREFIXES):
                    # A page with its own policy keeps it: the widget's frame lists who may embed it.
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                if not path.startswith(CACHEABLE_PREFIXES):
                    headers["Cache-Control"] = "no-store"
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuses a request body over the limit with 413 before anything parses it, whether it
    declares its length or arrives in chunks."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, refusal: dict[str, str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = json.dumps(refusal).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        # Read the whole body (it is small) so a chunked one is measured too, then replay it.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.refusal)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self.refusal})
