"""The reports page (charts drawn on the server as SVG, no script library) and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.database import utcnow
from bot.reports import service
from bot.staff.security import CAN_LEAD_SHIFT, SignedIn, page_user, require_role
from bot.templating import templates_for

router = APIRouter(prefix="/reports", include_in_schema=False)
templates = templates_for(__file__)
# Whoever leads the shift reads how the service is doing.
reader = require_role(CAN_LEAD_SHIFT)
DAYS = Query(30, ge=1, le=3650)


def _figures(request: Request, days: int):
    services = request.app.state.services
    return services.db(
        service.figures, since=utcnow() - timedelta(days=days), tracker_url=services.settings.rasa_tracker_url
    )


@router.get("", response_class=HTMLResponse)
async def reports_page(request: Request, days: int = DAYS) -> Response:
    user = await page_user(request, CAN_LEAD_SHIFT, elsewhere="/console")
    if isinstance(user, Response):
        return user
    report = await _figures(request, days)
    words = request.app.state.services.console.entries
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "user": user,
            "days": days,
            "report": report,
            "outcome_names": words["outcomes"],
            "flag_names": words["flag_kinds"],
        },
    )


@router.get("/api/figures")
async def figures(request: Request, days: int = DAYS, _user: SignedIn = Depends(reader)) -> dict[str, Any]:
    return await _figures(request, days)


@router.get("/export.csv")
async def export_csv(request: Request, days: int = DAYS, user: SignedIn = Depends(reader)) -> Response:
    report = await _figures(request, days)

    def record(*, session: Session) -> None:
        audit.record(
            AuditAction.EXPORT, actor_id=user.user_id, detail={"what": "reports", "days": days}, session=session
        )

    await request.app.state.services.db(record)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["measure", "key", "value"])
    writer.writerows(service.csv_rows(report))
    return Response(
        table.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="reports-{days}-days.csv"'},
    )
