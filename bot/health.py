"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.services import Services, services_of

router = APIRouter(tags=["health"])


def _database_answers(*, session: Session) -> bool:
    return session.execute(text("SELECT 1")).scalar_one() == 1


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: Services = Depends(services_of)) -> JSONResponse:
    """200 only when Rasa has a model loaded, the action server and the database answer, and the safety net has its risk model."""
    try:
        database = await services.db(_database_answers)
    except Exception:
        database = False
    checks = {
        **await services.dialogue.readiness(),
        "database": database,
        "notifier": await services.notifier.healthy(),
    }
    ready = all(checks.values())
    return JSONResponse(status_code=200 if ready else 503, content={"ready": ready, "checks": checks})
