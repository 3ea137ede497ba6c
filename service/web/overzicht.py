"""Overzicht: the school's figures (SBB: national) per month, ground and kind, with charts
drawn from the data tables beside them, and exports as CSV and XLSX.

The exports reuse service.exports, the same files GET /v1/stats/export.* gives API users.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio.to_thread
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from service.deps import StateDep
from service.exports import export_filename, stats_csv, stats_workbook
from service.state import ServiceState
from service.store.models import utcnow
from service.store.records import GROUPINGS, record_stats, records_for_export
from service.web.auth import UserDep, WebUser, page_router
from service.web.figures import overview_figures
from service.web.pagekit import QueryProblems, day_range, parse_day, scope_label
from service.web.render import ground_labels, render

router = page_router()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUPING_LABELS = {
    "month": "per maand",
    "ground": "per grond",
    "kind": "per soort",
    "verdict": "per oordeel",
    "company": "per bedrijf",
}


def _period(request: Request) -> tuple[Any, Any, dict[str, str], list[str]]:
    problems = QueryProblems()
    start_day = parse_day(request.query_params.get("van"), "van", problems)
    end_day = parse_day(request.query_params.get("tot"), "tot en met", problems)
    start, end = day_range(start_day, end_day, problems)
    kept = {
        "van": start_day.isoformat() if start_day else "",
        "tot": end_day.isoformat() if end_day and end is not None else "",
    }
    return start, end, kept, problems.messages


def _page(request: Request, state: ServiceState, user: WebUser) -> HTMLResponse:
    start, end, kept, problems = _period(request)
    with state.sessions() as session:
        figures = overview_figures(session, user.scope, ground_labels(request), start, end)
    query = "&".join(f"{k}={v}" for k, v in kept.items() if v)
    return render(
        request,
        "pages/overview.html",
        {
            "scope": scope_label(user),
            "figures": figures,
            "filters": kept,
            "problems": problems,
            "query": query,
            "groupings": GROUPING_LABELS,
        },
        user=user,
        active="overzicht",
    )


@router.get("/overzicht", response_class=HTMLResponse)
async def overview(request: Request, state: StateDep, user: UserDep) -> HTMLResponse:
    """Screenings and findings per month, by ground, by kind; share rejected."""
    return await anyio.to_thread.run_sync(_page, request, state, user)


def _export(request: Request, state: ServiceState, user: WebUser, fmt: str) -> Response:
    start, end, _, _ = _period(request)
    label = "landelijk" if user.role == "sbb" else user.organisation_name
    with state.sessions() as session:
        if fmt == "csv":
            group_by = request.query_params.get("indeling", "month")
            if group_by not in GROUPINGS:
                group_by = "month"
            total, groups = record_stats(session, user.scope, group_by, start, end)
            content = stats_csv(groups, total)
            name = export_filename(f"{label}-{group_by}", start, end, "csv")
            media = "text/csv; charset=utf-8"
        else:
            groupings = {g: record_stats(session, user.scope, g, start, end) for g in GROUPINGS}
            records = records_for_export(session, user.scope, start, end)
            about: list[tuple[str, Any]] = [
                ("scope", scope_label(user)),
                ("from", f"{start:%Y-%m-%d}" if start else "-"),
                ("to", f"{end - timedelta(days=1):%Y-%m-%d}" if end else "-"),
                ("generated (UTC)", utcnow().replace(tzinfo=None, microsecond=0)),
                ("records", groupings["month"][0].records),
            ]
            content = stats_workbook(about, groupings, records)
            name = export_filename(label, start, end, "xlsx")
            media = XLSX
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/overzicht/export.csv")
async def export_csv(request: Request, state: StateDep, user: UserDep) -> Response:
    """The figures of one grouping (`indeling`) as CSV."""
    return await anyio.to_thread.run_sync(_export, request, state, user, "csv")


@router.get("/overzicht/export.xlsx")
async def export_xlsx(request: Request, state: StateDep, user: UserDep) -> Response:
    """Every grouping and the list of records (never their texts) as an Excel workbook."""
    return await anyio.to_thread.run_sync(_export, request, state, user, "xlsx")
