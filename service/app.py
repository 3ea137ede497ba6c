"""The FastAPI application factory.

`uvicorn --factory service.app:create_app` (what `stagecheck serve` runs) calls it with no
arguments in every worker: settings come from the environment. Tests pass their own
settings and the session's analyzer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from nlp.analyzer import Analyzer, package_version
from service.config import Settings, get_settings
from service.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from service.problem import FieldError, Problem, install_problem_handlers
from service.routes import (
    analyze,
    companies,
    docs,
    grounds,
    health,
    metrics,
    model,
    organisation,
    problems,
    records,
    stats,
)
from service.schemas import (
    AnalyzeRequest,
    BatchRequest,
    FeedbackIn,
    KeyCreate,
    RecordUpdate,
)
from service.state import build_state, purge_periodically
from service.web import install_web

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Stagecheck flags discriminatory wording in internship vacancies and in employers' messages
to mbo students (stagediscriminatie), in Dutch and English.

Every analysis returns the same object: a `verdict` (`ok` akkoord, `review` beoordelen,
`reject` afkeuren), a `risk` between 0 and 1, and `findings`, each with its `ground`,
`severity`, the exact `quote` with character offsets (`text[start:end] == quote`), an
explanation in the text's language, the legal basis and a suggestion.

**Authentication**: send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
An operator makes one with `stagecheck keys create --org NAME --role officer|sbb|admin`
(or, for analysis only, `--name NAME`). Each key may make
`STAGECHECK_RATE_LIMIT_PER_MINUTE` requests a minute (default 600); `X-RateLimit-Limit` and
`X-RateLimit-Remaining` say where it stands, and a 429 carries `Retry-After`.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type` such as
`/problems/text-too-long`; `GET /problems` lists them. Every response carries an
`X-Request-ID` (yours, if you send a safe one); quote it when you report a problem.

**Records**: with `store: true` an analysis is kept for the key's organisation, with the
text's personal data (e-mail, phone numbers, IBAN, BSN, addresses, URLs with a query,
names in greetings and signatures) redacted before it is written. Officers (`officer`,
`admin`) see their own organisation's records; `sbb` keys see every organisation's.
Another organisation's record is not found (404), never forbidden. Records older than
STAGECHECK_RETENTION_DAYS (default 730) are deleted daily.

Texts are analysed in memory and never logged; only redacted texts of records are stored.
"""

TAGS = [
    {"name": "analyse", "description": "Analyse one text or a batch."},
    {"name": "taxonomy", "description": "The grounds findings refer to."},
    {"name": "records", "description": "Kept screenings: follow-up and feedback."},
    {"name": "companies", "description": "Companies by KvK number, from the records."},
    {"name": "statistics", "description": "Counts of the records, also as CSV and XLSX."},
    {"name": "organisation", "description": "Your organisation and (admins) its keys."},
    {"name": "model", "description": "What produces the analyses."},
    {"name": "operations", "description": "Liveness, readiness and metrics (no key)."},
    {"name": "problems", "description": "The error types (no key)."},
]

# Schemas of bodies the routes parse themselves (to authenticate before reading them).
_BODY_SCHEMAS = (
    AnalyzeRequest,
    BatchRequest,
    RecordUpdate,
    FeedbackIn,
    KeyCreate,
    Problem,
    FieldError,
)


def create_app(settings: Settings | None = None, analyzer: Analyzer | None = None) -> FastAPI:
    """Build the app; the lifespan checks the database and builds the analyzer once."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await anyio.to_thread.run_sync(build_state, settings, analyzer)
        app.state.service = state
        try:
            async with anyio.create_task_group() as tasks:
                if settings.purge_interval_hours > 0:
                    tasks.start_soon(purge_periodically, state)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            app.state.service = None
            state.close()
            logger.info("service stopped")

    app = FastAPI(
        title="Stagecheck API",
        version=package_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # /docs is served by service.routes.docs from the app's own files (CSP, offline);
        # ReDoc needs a CDN, so there is none.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.service = None
    install_problem_handlers(app)
    for router in (
        analyze.router,
        records.router,
        companies.router,
        stats.router,
        organisation.router,
        grounds.router,
        model.router,
        health.router,
        metrics.router,
        problems.router,
    ):
        app.include_router(router)
    if settings.docs:
        app.include_router(docs.router)
    install_web(app, settings)
    # Added last = outermost: the request context wraps the body limit and the session, and
    # the security headers wrap everything, the request context's last-resort 500 included.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, fastapi_app=app)
    app.add_middleware(SecurityHeadersMiddleware, behind_https=settings.behind_https)
    _install_openapi(app)
    return app


def _install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            separate_input_output_schemas=False,
        )
        _, defs = models_json_schema(
            [(model, "validation") for model in _BODY_SCHEMAS],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        _drop_default_validation_errors(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_default_validation_errors(schema: dict[str, Any]) -> None:
    """Remove FastAPI's default 422 (HTTPValidationError): errors here are problem+json."""
    default = "#/components/schemas/HTTPValidationError"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {})
            refs = [c.get("schema", {}).get("$ref") for c in content.values()]
            if refs and all(ref == default for ref in refs):
                del responses["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
