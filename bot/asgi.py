"""The ASGI entry point: `uvicorn bot.asgi:app` (run with --no-access-log: no IP addresses in logs)."""

import logging

from bot.app import create_app


class WithoutConnectionLines(logging.Filter):
    """uvicorn logs every WebSocket handshake, outside its access log, with the client's address
    and the path (a conversation id): `127.0.0.1:37202 - "WebSocket /api/conversations/<id>/stream"
    [accepted]`. The service keeps no IP addresses, so those lines are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and '"WebSocket ' in record.msg)


logging.getLogger("uvicorn.error").addFilter(WithoutConnectionLines())

app = create_app()
