"""Companies by KvK number: what the caller's records say about them, and a search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from service.deps import MemberDep, StateDep
from service.openapi_examples import json_examples
from service.problem import (
    API_KEY_INVALID,
    API_KEY_MISSING,
    FORBIDDEN,
    NOT_FOUND,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    VALIDATION_ERROR,
    ProblemError,
    problem_responses,
)
from service.routes.records import summary_of
from service.schemas import (
    KVK_PATTERN,
    CompanyHitOut,
    CompanyMonth,
    CompanyName,
    CompanyOverviewOut,
    CompanySearch,
    VerdictCounts,
)
from service.store.records import company_overview, search_companies

router = APIRouter(prefix="/v1/companies", tags=["companies"])

_PROBLEMS = (
    API_KEY_MISSING,
    API_KEY_INVALID,
    FORBIDDEN,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    VALIDATION_ERROR,
)


@router.get(
    "",
    response_model=CompanySearch,
    summary="Find companies",
    description="Companies in the records the key may see, most recently screened first: "
    "`q` is the start of a KvK number or part of any name a company was screened under; "
    "without `q`, every company.",
    responses={**json_examples("companies"), **problem_responses(*_PROBLEMS)},
)
async def search(
    state: StateDep,
    caller: MemberDep,
    q: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CompanySearch:
    """GET /v1/companies?q=."""

    def run(session: Session) -> CompanySearch:
        hits = search_companies(session, caller.scope, q, limit)
        return CompanySearch(
            items=[
                CompanyHitOut(
                    kvk=h.kvk, name=h.name, records=h.records, last_screening=h.last_screening
                )
                for h in hits
            ]
        )

    return await state.run_db(run)


@router.get(
    "/{kvk}",
    response_model=CompanyOverviewOut,
    summary="One company",
    description="What the records the key may see say about one company: the names and "
    "places it was screened under, counts by verdict and by ground per month, the newest "
    "records and the last screening. An officer sees its own school's records only; SBB sees "
    "every school's. 404 when none of them names this KvK number.",
    responses={**json_examples("company"), **problem_responses(*_PROBLEMS, NOT_FOUND)},
)
async def overview(
    state: StateDep,
    caller: MemberDep,
    kvk: Annotated[str, Path(pattern=KVK_PATTERN, description="8 digits")],
) -> CompanyOverviewOut:
    """GET /v1/companies/{kvk}."""

    def run(session: Session) -> CompanyOverviewOut:
        found = company_overview(session, caller.scope, kvk)
        if found is None:
            raise ProblemError(NOT_FOUND, f"no record names a company with KvK number {kvk}")
        return CompanyOverviewOut(
            kvk=found.kvk,
            names=[CompanyName(name=n, records=c, last_seen=t) for n, c, t in found.names],
            locations=found.locations,
            records=found.total.records,
            verdicts=VerdictCounts(**found.total.verdicts),
            grounds=found.by_ground,
            months=[
                CompanyMonth(
                    month=month,
                    records=tally.records,
                    verdicts=VerdictCounts(**tally.verdicts),
                    grounds=found.by_month_ground.get(month, {}),
                )
                for month, tally in found.by_month.items()
            ],
            first_screening=found.first_screening,
            last_screening=found.last_screening,
            recent=[summary_of(r) for r in found.records],
        )

    return await state.run_db(run)
