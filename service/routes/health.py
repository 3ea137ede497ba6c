"""GET /health (the process is up) and GET /ready (analyzer, lexicons and database usable)."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request

from nlp.schema import Ground
from service.deps import state_of
from service.errors import StoreError
from service.openapi_examples import response_examples
from service.problem import NOT_READY, ProblemError, problem_responses
from service.schemas import Health, Readiness
from service.state import ServiceState
from service.store.migrate import schema_status

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    response_model=Health,
    summary="Liveness",
    description="200 while the process runs. No key needed.",
    responses={200: {"content": {"application/json": {"examples": response_examples("health")}}}},
)
async def health() -> Health:
    """GET /health."""
    return Health(status="ok")


def _database_check(state: ServiceState) -> str:
    try:
        status = schema_status(state.engine)
    except StoreError:
        return "unreachable"
    return "ok" if status.up_to_date else f"schema {status.current or 'empty'}, needs {status.head}"


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness",
    description="200 when the analyzer and its lexicons are loaded and the database answers "
    "at the schema this release needs; 503 with the failing checks otherwise. No key needed.",
    responses={
        200: {"content": {"application/json": {"examples": response_examples("ready")}}},
        **problem_responses(NOT_READY),
    },
)
async def ready(request: Request) -> Readiness:
    """GET /ready."""
    state = state_of(request)
    analyzer = state.analyzer
    checks = {
        "analyzer": "ok",
        "lexicons": "ok" if set(analyzer.lexicon.grounds) == set(Ground) else "incomplete",
        "model": "ok" if analyzer.scorer is not None else "absent (rules only)",
        "database": await anyio.to_thread.run_sync(_database_check, state),
    }
    failing = {
        name: value
        for name, value in checks.items()
        if value != "ok" and not (name == "model" and state.settings.rules_only)
    }
    if failing:
        raise ProblemError(
            NOT_READY,
            "not ready: " + ", ".join(f"{name} {value}" for name, value in failing.items()),
            extra={"checks": checks},
        )
    return Readiness(status="ready", checks=checks, model_version=analyzer.model_version)
