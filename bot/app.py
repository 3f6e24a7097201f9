"""The application: the only part of the service exposed to the web."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot import health
from bot.content import load_content
from bot.conversation import views as conversation_views
from bot.database import session_factory
from bot.dialogue.flows import DialogueWorker
from bot.dialogue.rasa import RasaClient
from bot.dialogue.safety_net import SafetyNet
from bot.errors import install_error_handlers
from bot.handoff import views as console_views
from bot.middleware import BodySizeLimit, SecurityHeaders
from bot.moderation import views as moderation_views
from bot.notify import make_notifier
from bot.privacy import views as privacy_views
from bot.rate_limits import RateLimits
from bot.reports import views as reports_views
from bot.retention import purge_periodically
from bot.services import Services
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.staff import views as staff_views
from bot.widget import views as widget_views

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = Services(
        settings=settings,
        sessions=session_factory(settings.database_url),
        notifier=make_notifier(settings.redis_url),
        content=load_content(settings.content_dir),
        console=load_content(settings.content_dir, "console"),
        rate_limits=RateLimits(settings),
    )
    rasa = RasaClient(settings.rasa_urls, settings.rasa_token, settings.actions_url, settings.rasa_timeout_seconds)
    dialogue = DialogueWorker(services, rasa, SafetyNet())
    services.dialogue = dialogue

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.notifier.start()
        await anyio.to_thread.run_sync(dialogue.safety_net.warm_up)
        dialogue.start()
        purger = asyncio.create_task(purge_periodically(services))
        yield
        purger.cancel()
        await dialogue.stop()
        await services.notifier.stop()

    app = FastAPI(
        title="Youth image-sharing helpline chatbot",
        version="1.0",
        summary="Teen-facing chat API, helpline console and moderation.",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        refusal={"error": "too_large", "message": services.content.error("too_large")},
    )
    # Added last, so outermost: refusals carry the headers too.
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(conversation_views.router)
    app.include_router(widget_views.router)
    app.include_router(staff_views.router)
    app.include_router(console_views.router)
    app.include_router(moderation_views.router)
    app.include_router(privacy_views.router)
    app.include_router(privacy_views.teen_api)
    app.include_router(reports_views.router)
    app.mount(
        "/console/static", StaticFiles(directory=PROJECT_ROOT / "bot" / "handoff" / "static"), name="console-static"
    )
    app.mount(
        "/moderation/static",
        StaticFiles(directory=PROJECT_ROOT / "bot" / "moderation" / "static"),
        name="moderation-static",
    )
    return app
