"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.errors import error_responses
from bot.services import Services, services_of

# A readiness check answers 503 with its own body (which part is missing), never the database's error.
router = APIRouter(tags=["health"], responses=error_responses(413, 500))


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool]


def _database_answers(*, session: Session) -> bool:
    return session.execute(text("SELECT 1")).scalar_one() == 1


@router.get("/healthz", response_model=Liveness)
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}})
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
