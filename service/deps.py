"""FastAPI dependencies as `Annotated` aliases: state, settings, analyzer, caller, JSON body."""

from __future__ import annotations

import email.message
import json
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from nlp.analyzer import Analyzer
from service.config import Settings
from service.middleware import SCOPE_KEY
from service.problem import (
    FORBIDDEN,
    MALFORMED_JSON,
    NOT_READY,
    UNSUPPORTED_MEDIA_TYPE,
    ProblemError,
)
from service.security import Caller, authenticate, rate_limit
from service.state import ServiceState

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`Authorization: Bearer <key>`; make a key with `stagecheck keys create`.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="The same key in an `X-API-Key` header.",
)


# Dependencies that only read memory are `async def`: FastAPI runs a plain `def` one in its
# thread pool, and each such hop waited for the GIL behind a running analysis (up to the
# 5 ms switch interval, twice), on every request (issue 7). Only the key lookup, which
# queries the database, stays in the pool.


def state_of(request: Request) -> ServiceState:
    """The worker's state, built in the lifespan."""
    state = getattr(request.app.state, "service", None)
    if state is None:
        raise ProblemError(NOT_READY, "the service is starting or stopping")
    return state


async def get_state(request: Request) -> ServiceState:
    """The worker's state, as a dependency."""
    return state_of(request)


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    """The settings the app was built with."""
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_analyzer(state: StateDep) -> Analyzer:
    """The worker's analyzer."""
    return state.analyzer


AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]


def require_caller(
    request: Request,
    response: Response,
    state: StateDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    x_api_key: Annotated[str | None, Security(api_key_scheme)],
) -> Caller:
    """Authenticate the request and count it against the caller's rate limit."""
    address = request.client.host if request.client else "unknown"
    caller = authenticate(state, request.headers.get("authorization"), x_api_key, address)
    if caller.key_prefix is not None:
        request.scope[SCOPE_KEY] = caller.key_prefix
    response.headers.update(rate_limit(state, caller))
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]

NO_ORGANISATION = (
    "records belong to an organisation, and this key has none (or authentication is "
    "disabled); make a key with `stagecheck keys create --org NAME --role officer|sbb|admin`"
)


async def require_organisation(caller: CallerDep) -> Caller:
    """The caller, who must hold a key of an organisation with a role (403 otherwise)."""
    if caller.organisation_id is None or caller.role is None:
        raise ProblemError(FORBIDDEN, NO_ORGANISATION)
    return caller


MemberDep = Annotated[Caller, Depends(require_organisation)]


@lru_cache(maxsize=256)  # clients send a handful of values; parsing one cost 1% of a request
def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    if subtype != "json" and not subtype.endswith("+json"):
        return False
    charset = message.get_param("charset")
    return charset is None or str(charset).lower() in ("utf-8", "utf8")


async def json_body(request: Request, _caller: CallerDep) -> Any:
    """The parsed JSON body, after authentication: 415 for another type, 400 for bad JSON."""
    if not _is_json(request.headers.get("content-type")):
        raise ProblemError(
            UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with `Content-Type: application/json` (UTF-8)",
        )
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProblemError(
            MALFORMED_JSON, f"the body is not UTF-8 (byte offset {exc.start})"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ProblemError(
            MALFORMED_JSON,
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from exc


JsonBody = Annotated[Any, Depends(json_body)]
