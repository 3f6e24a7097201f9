"""The ASGI entry point: `uvicorn bot.asgi:app`."""

from bot.app import create_app

app = create_app()
