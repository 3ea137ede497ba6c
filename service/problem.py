"""RFC 9457 problem details: every error the API returns, with a stable `type` per error.

The `type` of a problem is a URI reference of the form `/problems/<slug>`; the service
describes each one at that path, so a developer can look up any error it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from nlp.errors import BinaryTextError, EmptyTextError, InputError, TextTooLongError

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_PATH = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    """One kind of error: its slug (the last part of `type`), status, title and meaning."""

    slug: str
    status: int
    title: str
    description: str

    @property
    def uri(self) -> str:
        """The stable `type` of this problem."""
        return PROBLEM_PATH + self.slug


MALFORMED_JSON = ProblemType(
    "malformed-json", 400, "Malformed JSON", "The request body is not valid UTF-8 JSON."
)
API_KEY_MISSING = ProblemType(
    "api-key-missing",
    401,
    "API key missing",
    "Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. "
    "Keys are made with `stagecheck keys create --org NAME --role ROLE`.",
)
API_KEY_INVALID = ProblemType(
    "api-key-invalid",
    401,
    "API key not accepted",
    "The API key is unknown, revoked or expired, or the Authorization header is not Bearer.",
)
FORBIDDEN = ProblemType(
    "forbidden",
    403,
    "Not allowed",
    "The key may not do this. Keeping and reading records needs a key of an organisation "
    "(`stagecheck keys create --org NAME --role officer|sbb|admin`); deleting records and "
    "managing keys needs the role admin.",
)
NOT_FOUND = ProblemType(
    "not-found",
    404,
    "Not found",
    "No resource at this path, or none that this key may see (another organisation's records "
    "are not found, never forbidden).",
)
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed", 405, "Method not allowed", "The path exists but not with this method."
)
BODY_TOO_LARGE = ProblemType(
    "body-too-large",
    413,
    "Request body too large",
    "The request body exceeds STAGECHECK_MAX_BODY_BYTES (default 10 MB).",
)
TEXT_TOO_LONG = ProblemType(
    "text-too-long",
    413,
    "Text too long",
    "The text exceeds STAGECHECK_MAX_TEXT_CHARS characters (default 200,000).",
)
BATCH_TOO_LARGE = ProblemType(
    "batch-too-large",
    413,
    "Batch too large",
    "The batch holds more items than STAGECHECK_MAX_BATCH_ITEMS (default 500).",
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type",
    415,
    "Unsupported media type",
    "Send the body as JSON with `Content-Type: application/json` (UTF-8).",
)
VALIDATION_ERROR = ProblemType(
    "validation-error",
    422,
    "Invalid request",
    "A field is missing, unknown or has a value the API does not accept; `errors` names it.",
)
EMPTY_TEXT = ProblemType(
    "empty-text",
    422,
    "Empty text",
    "The text is empty, holds only whitespace, or (for HTML) holds no visible text.",
)
BINARY_TEXT = ProblemType(
    "binary-text",
    422,
    "Binary data instead of text",
    "The text holds NUL characters: a binary file was sent as text.",
)
RATE_LIMITED = ProblemType(
    "rate-limited",
    429,
    "Too many requests",
    "The key (or, without authentication, the address) exceeded "
    "STAGECHECK_RATE_LIMIT_PER_MINUTE; retry after the seconds in `Retry-After`.",
)
INTERNAL_ERROR = ProblemType(
    "internal-error",
    500,
    "Internal error",
    "Something went wrong on the server. The log holds the details under the request id.",
)
NOT_READY = ProblemType(
    "not-ready",
    503,
    "Not ready",
    "The analyzer, the lexicons or the database are not available yet or any more.",
)
SERVICE_UNAVAILABLE = ProblemType(
    "service-unavailable",
    503,
    "Service unavailable",
    "A dependency of the request (such as the database) does not answer; try again later.",
)
HTTP_ERROR = ProblemType("http-error", 400, "HTTP error", "A protocol-level error.")

PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (
        MALFORMED_JSON,
        API_KEY_MISSING,
        API_KEY_INVALID,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        BODY_TOO_LARGE,
        TEXT_TOO_LONG,
        BATCH_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        VALIDATION_ERROR,
        EMPTY_TEXT,
        BINARY_TEXT,
        RATE_LIMITED,
        INTERNAL_ERROR,
        NOT_READY,
        SERVICE_UNAVAILABLE,
        HTTP_ERROR,
    )
}


class FieldError(BaseModel):
    """One offending field of a request."""

    field: str = Field(description='where, e.g. "text" or "items[2].kind"', examples=["kind"])
    message: str = Field(examples=["Input should be 'vacancy' or 'rejection'"])
    type: str = Field(description="a pydantic error type", examples=["enum"])


class Problem(BaseModel):
    """An RFC 9457 problem details object (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="stable URI reference of the error", examples=["/problems/x"])
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = Field(default=None, description="also in the X-Request-ID header")
    errors: list[FieldError] | None = Field(
        default=None, description="the offending fields (422, some 413)"
    )

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("instance", "request_id", "errors"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem; never carries the text."""

    def __init__(
        self,
        problem: ProblemType,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self, instance: str | None = None, request_id: str | None = None) -> Problem:
        """The problem object of this error."""
        return Problem(
            type=self.problem.uri,
            title=self.problem.title,
            status=self.problem.status,
            detail=self.detail,
            instance=instance,
            request_id=request_id,
            errors=self.errors,
            **self.extra,
        )


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """A pydantic location as a field path: ("items", 2, "kind") -> "items[2].kind"."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or "body"


def field_errors(errors: Sequence[Mapping[str, Any]], prefix: str = "") -> list[FieldError]:
    """Pydantic errors as FieldErrors, without the offending input (it may be the text)."""
    out = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        out.append(
            FieldError(
                field=field_path(loc, prefix), message=str(err["msg"]), type=str(err["type"])
            )
        )
    return out


def validation_problem(exc: ValidationError, prefix: str = "") -> ProblemError:
    """A 422 problem naming every offending field of a pydantic ValidationError."""
    errors = field_errors(exc.errors(include_input=False, include_url=False), prefix)
    names = ", ".join(dict.fromkeys(e.field for e in errors))
    return ProblemError(VALIDATION_ERROR, f"invalid field(s): {names}", errors=errors)


def input_problem(exc: InputError, field: str = "text") -> ProblemError:
    """The problem of an analyzer InputError (the text or an option it cannot analyse)."""
    if isinstance(exc, TextTooLongError):
        return ProblemError(
            TEXT_TOO_LONG,
            str(exc),
            errors=[FieldError(field=field, message=str(exc), type="text_too_long")],
        )
    if isinstance(exc, EmptyTextError):
        return ProblemError(
            EMPTY_TEXT, str(exc), errors=[FieldError(field=field, message=str(exc), type="empty")]
        )
    if isinstance(exc, BinaryTextError):
        return ProblemError(
            BINARY_TEXT,
            str(exc),
            errors=[FieldError(field=field, message=str(exc), type="binary")],
        )
    return ProblemError(VALIDATION_ERROR, str(exc))


def problem_response(
    error: ProblemError, instance: str | None, request_id: str | None
) -> JSONResponse:
    """The HTTP response of a ProblemError."""
    body = error.body(instance=instance, request_id=request_id)
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=error.problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers,
    )


def request_id_of(request: Request) -> str | None:
    """The request id the middleware assigned."""
    value = request.scope.get("stagecheck.request_id")
    return str(value) if value else None


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc, request.url.path, request_id_of(request))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        error = ProblemError(MALFORMED_JSON, "the request body is not valid JSON")
    else:
        fields = field_errors(errors)
        names = ", ".join(dict.fromkeys(f.field for f in fields))
        error = ProblemError(VALIDATION_ERROR, f"invalid field(s): {names}", errors=fields)
    return problem_response(error, request.url.path, request_id_of(request))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path (Starlette names only the first route's)."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                allowed.append(method)
                break
    return ", ".join(allowed)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    problem = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: BODY_TOO_LARGE}.get(exc.status_code)
    if problem is None:
        problem = ProblemType(
            HTTP_ERROR.slug, exc.status_code, HTTP_ERROR.title, HTTP_ERROR.description
        )
    if problem is NOT_FOUND:
        detail = f"nothing at {request.url.path}; the API is described at /docs"
    headers = dict(exc.headers or {})
    if problem is METHOD_NOT_ALLOWED:
        allowed = _allowed_methods(request) or next(
            (value for name, value in headers.items() if name.lower() == "allow"), ""
        )
        headers = {name: value for name, value in headers.items() if name.lower() != "allow"}
        headers["Allow"] = allowed
        detail = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
    else:
        detail = exc.detail if isinstance(exc.detail, str) else problem.title
    error = ProblemError(problem, detail, headers=headers)
    return problem_response(error, request.url.path, request_id_of(request))


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error with problem+json (unexpected ones: see service.middleware)."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)


def problem_responses(*problems: ProblemType) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these problems, grouped by status, with real examples."""
    from service.openapi_examples import problem_example

    titles: dict[int, list[str]] = {}
    out: dict[int | str, dict[str, Any]] = {}
    for problem in problems:
        titles.setdefault(problem.status, []).append(problem.title)
        entry = out.setdefault(
            problem.status,
            {
                "content": {
                    PROBLEM_MEDIA_TYPE: {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        "examples": {},
                    }
                }
            },
        )
        example = problem_example(problem.slug)
        if example is not None:
            entry["content"][PROBLEM_MEDIA_TYPE]["examples"][problem.slug] = {
                "summary": problem.title,
                "value": example,
            }
    for status, names in titles.items():
        out[status]["description"] = " / ".join(names)
    return out
