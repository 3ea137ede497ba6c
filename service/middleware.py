"""ASGI middleware: request ids, access log and metrics, body size limit, last-resort 500,
security headers.

Plain ASGI rather than BaseHTTPMiddleware: no extra task per request, and the body limit
can count bytes as they stream in.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
import uuid
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics
from service.problem import (
    BODY_TOO_LARGE,
    INTERNAL_ERROR,
    ProblemError,
    problem_response,
)

access_log = logging.getLogger("stagecheck.access")
error_log = logging.getLogger("stagecheck.error")

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Keys in the ASGI scope through which routes tell the access log what they saw.
SCOPE_REQUEST_ID = "stagecheck.request_id"
SCOPE_TEXT_CHARS = "stagecheck.text_chars"
SCOPE_ITEMS = "stagecheck.items"
SCOPE_KEY = "stagecheck.key"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(app: Any, scope: Scope) -> str:
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    # Not routed (yet): a 413 before routing, or a 404. Match the path to a template so the
    # metrics' route label stays bounded; unknown paths all count as "unmatched".
    router = getattr(app, "router", None)
    for candidate in getattr(router, "routes", ()):
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # pragma: no cover - a route that cannot match this scope
            continue
        if match is not Match.NONE and hasattr(candidate, "path"):
            return str(candidate.path)
    return "unmatched"


class RequestContextMiddleware:
    """Assigns the request id, logs and measures every request, and answers 500 last.

    The log line holds method, route, status, latency, text length and request id. It never
    holds the text: texts can name students.
    """

    def __init__(self, app: ASGIApp, fastapi_app: Any = None) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope[SCOPE_REQUEST_ID] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ProblemError as exc:
            # Raised outside a route (e.g. by the body limit before routing).
            if response_started:
                raise
            await problem_response(exc, scope.get("path"), request_id)(scope, receive, send_with_id)
        except Exception as exc:
            # The message of an exception may quote the input, so only its type and the
            # stack go to the log, and nothing of it to the caller.
            error_log.error(
                "unhandled %s in %s %s request_id=%s\n%s",
                type(exc).__name__,
                scope.get("method"),
                _route_template(self.fastapi_app, scope),
                request_id,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if response_started:
                return
            error = ProblemError(
                INTERNAL_ERROR,
                "the server could not complete the request; quote the request id when you "
                "report it",
            )
            await problem_response(error, scope.get("path"), request_id)(
                scope, receive, send_with_id
            )
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(self.fastapi_app, scope)
            method = str(scope.get("method", ""))
            metrics.observe_request(method, route, status, elapsed)
            chars = scope.get(SCOPE_TEXT_CHARS)
            items = scope.get(SCOPE_ITEMS)
            key = scope.get(SCOPE_KEY)
            access_log.info(
                "%s %s status=%d latency_ms=%.1f text_chars=%s%s%s request_id=%s",
                method,
                route,
                status,
                elapsed * 1000,
                "-" if chars is None else chars,
                "" if items is None else f" items={items}",
                "" if key is None else f" key={key}",
                request_id,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "latency_ms": round(elapsed * 1000, 1),
                    "text_chars": chars,
                    "request_id": request_id,
                },
            )


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413: by Content-Length, or while they stream in."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> ProblemError:
        return ProblemError(
            BODY_TOO_LARGE,
            f"the request body is larger than {self.max_body_bytes:,} bytes",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, counting_receive, send)


# Everything the service and its web page load comes from the service itself: no inline
# script or style, no other origin, never inside a frame.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def secure_cookie(value: bytes) -> bytes:
    """A Set-Cookie value with the `Secure` attribute (added when missing)."""
    attributes = [part.strip().lower() for part in value.split(b";")[1:]]
    return value if b"secure" in attributes else value + b"; Secure"


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, whatever produced it.

    Headers a route set itself win (e.g. its own Cache-Control). Responses under `/v1/`
    are `Cache-Control: no-store` unless the route says otherwise: they can hold records.
    With `behind_https` (STAGECHECK_BEHIND_HTTPS=true) it adds Strict-Transport-Security and
    marks every cookie `Secure`, so no session cookie ever travels over plain HTTP.
    """

    def __init__(self, app: ASGIApp, behind_https: bool = False) -> None:
        self.app = app
        self.behind_https = behind_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = str(scope.get("path", "")).startswith("/v1/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                extra = list(SECURITY_HEADERS)
                if private:
                    extra.append((b"cache-control", b"no-store"))
                if self.behind_https:
                    extra.append(HSTS)
                    headers = [
                        (key, secure_cookie(value) if key.lower() == b"set-cookie" else value)
                        for key, value in headers
                    ]
                headers.extend((key, value) for key, value in extra if key not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
