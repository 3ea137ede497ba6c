"""Bedrijven: find a company by name or KvK number, and a page per company with its
records and charts of findings by ground and by month.

Officers see what their own school's records say about a company; SBB sees every school's.
A company that none of the user's records name answers 404, so an officer cannot learn
what another school recorded.
"""

from __future__ import annotations

import re

import anyio.to_thread
from fastapi import Request
from fastapi.responses import HTMLResponse

from service.deps import StateDep
from service.state import ServiceState
from service.store.records import company_overview, search_companies
from service.web.auth import UserDep, WebUser, not_found, page_router
from service.web.figures import company_figures
from service.web.pagekit import scope_label
from service.web.render import ground_labels, render

router = page_router()

KVK = re.compile(r"^[0-9]{8}$")


def _search_page(request: Request, state: ServiceState, user: WebUser) -> HTMLResponse:
    term = (request.query_params.get("q") or "").strip()[:300]
    with state.sessions() as session:
        hits = search_companies(session, user.scope, term or None, limit=100)
    return render(
        request,
        "pages/companies.html",
        {"scope": scope_label(user), "q": term, "hits": hits},
        user=user,
        active="bedrijven",
    )


@router.get("/bedrijven", response_class=HTMLResponse)
async def companies(request: Request, state: StateDep, user: UserDep) -> HTMLResponse:
    """Search companies by (part of) a name or the start of a KvK number."""
    return await anyio.to_thread.run_sync(_search_page, request, state, user)


def _company_page(request: Request, state: ServiceState, user: WebUser, kvk: str) -> HTMLResponse:
    if not KVK.match(kvk):
        raise not_found()
    labels = ground_labels(request)
    with state.sessions() as session:
        found = company_overview(session, user.scope, kvk, recent=100)
        if found is None:
            raise not_found()
        records = [
            {
                "id": r.id,
                "created_at": r.created_at,
                "organisation": r.organisation.name,
                "kind": r.kind,
                "verdict": r.verdict,
                "grounds": sorted({f.ground for f in r.findings}),
                "status": r.status,
            }
            for r in found.records
        ]
    return render(
        request,
        "pages/company.html",
        {
            "scope": scope_label(user),
            "company": found,
            "name": found.names[0][0] if found.names else f"KvK {kvk}",
            "figures": company_figures(found, labels),
            "records": records,
        },
        user=user,
        active="bedrijven",
    )


@router.get("/bedrijven/{kvk}", response_class=HTMLResponse)
async def company(request: Request, kvk: str, state: StateDep, user: UserDep) -> HTMLResponse:
    """One company: names, figures per ground and per month, and its records."""
    return await anyio.to_thread.run_sync(_company_page, request, state, user, kvk)
