"""Statistics of the caller's records: as JSON, and as CSV or XLSX for spreadsheets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from service.deps import MemberDep, StateDep
from service.exports import export_filename, stats_csv, stats_workbook
from service.openapi_examples import json_examples
from service.problem import (
    API_KEY_INVALID,
    API_KEY_MISSING,
    FORBIDDEN,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    VALIDATION_ERROR,
    problem_responses,
)
from service.routes.records import blank_is_none, period
from service.schemas import StatsResponse, StatsRow, VerdictCounts
from service.security import Caller
from service.store.models import utcnow
from service.store.records import GROUPINGS, record_stats, records_for_export

router = APIRouter(prefix="/v1/stats", tags=["statistics"])

Grouping = Literal["ground", "month", "kind", "verdict", "company"]
_PROBLEMS = (
    API_KEY_MISSING,
    API_KEY_INVALID,
    FORBIDDEN,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    VALIDATION_ERROR,
)
FromDate = Annotated[
    date | None,
    BeforeValidator(blank_is_none),
    Query(alias="from", description="first day (UTC), inclusive; YYYY-MM-DD"),
]
ToDate = Annotated[
    date | None,
    BeforeValidator(blank_is_none),
    Query(description="last day (UTC), inclusive; YYYY-MM-DD"),
]


def scope_label(caller: Caller) -> str:
    """Whose records the statistics count."""
    return "all organisations" if caller.role == "sbb" else str(caller.organisation_name)


@router.get(
    "",
    response_model=StatsResponse,
    response_model_by_alias=True,
    summary="Statistics",
    description="Counts of the records the key may see (its organisation's, or every "
    "organisation's for sbb) made between `from` and `to`: records, their verdicts and "
    "findings, in total and per `group_by`. Per ground, `records` counts the records with at "
    "least one finding of that ground.",
    responses={**json_examples("stats"), **problem_responses(*_PROBLEMS)},
)
async def stats(
    state: StateDep,
    caller: MemberDep,
    from_: FromDate = None,
    to: ToDate = None,
    group_by: Grouping = "month",
) -> StatsResponse:
    """GET /v1/stats."""
    start, end = period(from_, to)

    def run(session: Session) -> StatsResponse:
        total, groups = record_stats(session, caller.scope, group_by, start, end)
        return StatsResponse.model_validate(
            {
                "scope": scope_label(caller),
                "group_by": group_by,
                "from": start.date() if start else None,
                "to": (end - timedelta(days=1)).date() if end else None,
                "records": total.records,
                "verdicts": VerdictCounts(**total.verdicts),
                "findings": total.findings,
                "groups": [
                    StatsRow(
                        key=g.key,
                        label=g.label,
                        records=g.tally.records,
                        verdicts=VerdictCounts(**g.tally.verdicts),
                        findings=g.tally.findings,
                    )
                    for g in groups
                ],
            }
        )

    return await state.run_db(run)


def _attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/export.csv",
    summary="Statistics as CSV",
    description="The statistics of one `group_by` as CSV (UTF-8, comma-separated, a header "
    "row, a total row last): columns key, label, records, reject, review, ok, findings.",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(*_PROBLEMS),
    },
)
async def export_csv(
    state: StateDep,
    caller: MemberDep,
    from_: FromDate = None,
    to: ToDate = None,
    group_by: Grouping = "month",
) -> Response:
    """GET /v1/stats/export.csv."""
    start, end = period(from_, to)

    def run(session: Session) -> bytes:
        total, groups = record_stats(session, caller.scope, group_by, start, end)
        return stats_csv(groups, total)

    content = await state.run_db(run)
    name = export_filename(f"{scope_label(caller)}-{group_by}", start, end, "csv")
    return _attachment(content, "text/csv; charset=utf-8", name)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export.xlsx",
    summary="Statistics as an Excel workbook",
    description="A workbook with a sheet per grouping (ground, month, kind, verdict, company) "
    "and a sheet listing the records (never their texts), for the period.",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **problem_responses(*_PROBLEMS)},
)
async def export_xlsx(
    state: StateDep, caller: MemberDep, from_: FromDate = None, to: ToDate = None
) -> Response:
    """GET /v1/stats/export.xlsx."""
    start, end = period(from_, to)
    label = scope_label(caller)

    def run(session: Session) -> bytes:
        groupings = {g: record_stats(session, caller.scope, g, start, end) for g in GROUPINGS}
        records = records_for_export(session, caller.scope, start, end)
        about: list[tuple[str, str | int | datetime]] = [
            ("scope", label),
            ("from", f"{start:%Y-%m-%d}" if start else "-"),
            ("to", f"{end - timedelta(days=1):%Y-%m-%d}" if end else "-"),
            ("generated (UTC)", utcnow().replace(tzinfo=None, microsecond=0)),
            ("records", groupings["month"][0].records),
        ]
        return stats_workbook(about, groupings, records)

    content = await state.run_db(run)
    return _attachment(content, XLSX, export_filename(label, start, end, "xlsx"))
