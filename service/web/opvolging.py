"""Opvolging: the kept records of the school (SBB: of every school) with their follow-up.

Filter by status, ground, company and date; open a record to read its redacted text and
findings, change its status with a note, and read its history. Another school's record
answers 404 exactly like one that does not exist; SBB reads every school's records but
changes only its own organisation's.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.deps import StateDep
from service.redaction import redact
from service.state import ServiceState
from service.store.models import STATUSES, Record
from service.store.orgs import list_organisations
from service.store.records import RecordFilter, get_record, list_records, update_record
from service.web.auth import UserDep, WebUser, flash, not_found, page_router
from service.web.pagekit import (
    QueryProblems,
    choice,
    day_range,
    may_change,
    page_number,
    parse_day,
    scope_label,
)
from service.web.render import ground_labels, render

router = page_router()

PAGE_SIZE = 50
MAX_NOTE_CHARS = 2000


def _list_page(request: Request, state: ServiceState, user: WebUser) -> HTMLResponse:
    query = request.query_params
    problems = QueryProblems()
    labels = ground_labels(request)
    status = choice(query.get("status"), STATUSES, "status", problems)
    ground = choice(query.get("grond"), labels, "grond", problems)
    company = (query.get("bedrijf") or "").strip()[:300] or None
    start_day = parse_day(query.get("van"), "van", problems)
    end_day = parse_day(query.get("tot"), "tot en met", problems)
    start, end = day_range(start_day, end_day, problems)
    page = page_number(query.get("pagina"))
    with state.sessions() as session:
        schools: list[str] = []
        school = None
        if user.role == "sbb":  # SBB sees every school and may narrow the list to one
            schools = [o.name for o, _ in list_organisations(session) if o.type == "school"]
            school = choice(query.get("school"), schools, "school", problems)
        filters = RecordFilter(
            status=status,
            ground=ground,
            company=company,
            organisation=school,
            start=start,
            end=end,
        )
        total, records = list_records(
            session, user.scope, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
        rows = [_summary(r) for r in records]
    kept = {
        "status": status or "",
        "grond": ground or "",
        "bedrijf": company or "",
        "school": school or "",
        "van": start_day.isoformat() if start_day else "",
        "tot": end_day.isoformat() if end_day else "",
    }
    base = {k: v for k, v in kept.items() if v}
    return render(
        request,
        "pages/followup.html",
        {
            "scope": scope_label(user),
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": kept,
            "schools": schools,
            "previous_url": f"?{urlencode(base | {'pagina': page - 1})}" if page > 1 else None,
            "next_url": f"?{urlencode(base | {'pagina': page + 1})}"
            if page * PAGE_SIZE < total
            else None,
            "problems": problems.messages,
        },
        user=user,
        active="opvolging",
    )


def _summary(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "created_at": record.created_at,
        "organisation": record.organisation.name,
        "kind": record.kind,
        "verdict": record.verdict,
        "risk": record.risk,
        "grounds": sorted({f.ground for f in record.findings}),
        "company_kvk": record.company_kvk,
        "company_name": record.company_name,
        "status": record.status,
        "updated_at": record.updated_at,
    }


@router.get("/opvolging", response_class=HTMLResponse)
async def followup_list(request: Request, state: StateDep, user: UserDep) -> HTMLResponse:
    """The records with filters for status, ground, company and date."""
    return await anyio.to_thread.run_sync(_list_page, request, state, user)


def _detail_page(
    request: Request,
    state: ServiceState,
    user: WebUser,
    record_id: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with state.sessions() as session:
        record = get_record(session, user.scope, record_id)
        if record is None:
            raise not_found()
        context = {
            "record": record,
            "organisation": record.organisation.name,
            "findings": record.analysis.get("findings", []),
            "history": list(record.events),
            "may_change": may_change(user, record.organisation_id),
            "error": error,
            "max_note": MAX_NOTE_CHARS,
        }
        return render(
            request,
            "pages/followup_record.html",
            context,
            user=user,
            active="opvolging",
            status_code=status_code,
        )


@router.get("/opvolging/{record_id}", response_class=HTMLResponse)
async def followup_record(
    request: Request, record_id: str, state: StateDep, user: UserDep
) -> HTMLResponse:
    """One record: redacted text, findings, status form and history."""
    return await anyio.to_thread.run_sync(_detail_page, request, state, user, record_id)


def _change(
    request: Request, state: ServiceState, user: WebUser, record_id: str, status: str, note: str
) -> Response:
    with state.sessions() as session:
        record = get_record(session, user.scope, record_id)
        if record is None:
            raise not_found()
        error = None
        if not may_change(user, record.organisation_id):
            error = "Je kunt alleen meldingen van je eigen organisatie wijzigen."
        elif status not in STATUSES:
            error = "Kies een status uit de lijst."
        elif len(note) > MAX_NOTE_CHARS:
            error = f"De notitie is langer dan {MAX_NOTE_CHARS} tekens."
        elif status == record.status and not note:
            error = "Kies een andere status of schrijf een notitie."
        if error is None:
            # Redacted before it is written, as the API's RedactedText does for its notes.
            update_record(session, record, user.actor, status, redact(note).text or None)
            flash(request, "De wijziging is opgeslagen.", "success")
            return RedirectResponse(f"/opvolging/{record_id}", status_code=303)
    return _detail_page(request, state, user, record_id, error, 422)


@router.post("/opvolging/{record_id}", response_class=HTMLResponse)
async def followup_change(
    request: Request,
    record_id: str,
    state: StateDep,
    user: UserDep,
    status: Annotated[str, Form()] = "",
    notitie: Annotated[str, Form()] = "",
) -> Response:
    """Change the status with a note; the change joins the record's history.

    The CSRF token is checked by the router (page_router).
    """
    return await anyio.to_thread.run_sync(
        _change, request, state, user, record_id, status, notitie.strip()
    )
