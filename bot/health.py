"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

router = APIRouter(tags=["health"])


def _database_answers(*, session: Session) -> bool:
    return session.execute(text("SELECT 1")).scalar_one() == 1


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 only when Rasa has a model loaded, the action server and the database answer, and the safety net has its risk model."""
    services = request.app.state.services
    try:
        database = await services.db(_database_answers)
    except Exception:
        database = False
    checks = {
        "rasa_model_loaded": await services.rasa.model_loaded(),
        "action_server": await services.rasa.actions_healthy(),
        "database": database,
        "notifier": await services.notifier.healthy(),
        "risk_model": request.app.state.dialogue.safety_net.has_risk_model,
    }
    ready = all(checks.values())
    return JSONResponse(status_code=200 if ready else 503, content={"ready": ready, "checks": checks})
