"""The officers' web pages, served at `/`: Dutch, server-rendered Jinja2, small JavaScript.

How to add a page
-----------------

1. A module in `service/web/` with a router made by `page_router()` (from
   `service.web.auth`): it is left out of the OpenAPI document and checks the CSRF token
   on every POST, PUT, PATCH and DELETE, so no route can forget it. Register the module's
   `router` in `PAGE_MODULES` below (Batch, Opvolging, Bedrijven and Overzicht already have
   a placeholder module each: replace its contents).

2. The signed-in user: add a parameter `user: UserDep` (`service.web.auth`). It is a
   `WebUser` with `id`, `email`, `organisation_id`, `organisation_name`,
   `organisation_type` and `role` (`officer`, `admin`, `sbb`), plus `user.scope` (pass it to
   the store's queries: an officer sees its own organisation's records, `sbb` every one)
   and `user.actor` (for histories and feedback). Nobody signed in: the user is sent to
   `/inloggen` and back afterwards. For a role, `dependencies=[require_role("admin")]`.

3. Render with `render(request, "page.html", {...}, user=user, active="batch")`
   (`service.web.render`): `active` is the nav item to mark (`controleren`, `batch`,
   `opvolging`, `bedrijven`, `overzicht`). It adds the CSRF token, the flash messages and
   the security headers (a strict Content-Security-Policy: no inline `<script>`, no
   `style="..."`, no `onclick`; JavaScript goes in `service/static/*.js`, loaded in the
   `scripts` block).

4. The template extends `base.html` and fills the blocks `title`, `content` and
   (optionally) `scripts`. Every form that POSTs carries
   `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`; JavaScript that
   POSTs with fetch sends the same token in an `X-CSRF-Token` header (read it from
   `<meta name="csrf-token">` in base.html). Labels in Dutch: `VERDICT_LABELS`,
   `SEVERITY_LABELS`, `STATUS_LABELS`, `KIND_LABELS`, `ROLE_LABELS` and `ground_labels`
   are template globals; the filters `local_time` and `percent` format times and risks.

5. Errors: raise `WebError(status, title, message)` for a Dutch error page, `not_found()`
   for a record the user may not see (always 404, exactly like a missing one). After a
   POST, `flash(request, "Opgeslagen.", "success")` and redirect with status 303.

6. Tests: `tests/web/` (TestClient with a signed-in session: see its conftest) and the
   browser tests in `tests/web/browser/` (marker `browser`): add the page's URL to
   `PAGES` there so axe-core checks it and a screenshot is saved.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from service.config import Settings
from service.web import batch, bedrijven, controleren, opvolging, overzicht, signin
from service.web.auth import (
    SESSION_COOKIE,
    LoginRequired,
    WebError,
    login_url,
    not_found,
    session_secret,
)
from service.web.render import STATIC_DIR, render

PAGE_MODULES = (signin, controleren, batch, opvolging, bedrijven, overzicht)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if _wants_json(request):
        return JSONResponse({"detail": "Je bent niet (meer) ingelogd."}, status_code=401)
    return RedirectResponse(login_url(exc.next_path), status_code=303)


async def _on_web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    if _wants_json(request):
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    user = request.scope.get("stagecheck.user")
    return render(
        request,
        "error.html",
        {"title": exc.title, "message": exc.message},
        user=user,
        status_code=exc.status_code,
    )


# Paths that belong to the API and answer problem+json, whoever asks.
_API_PREFIXES = ("/v1/", "/problems", "/docs", "/redoc", "/openapi.json", "/health", "/ready")


def _page_404(app: FastAPI) -> None:
    """A browser that asks for a page that does not exist gets the Dutch page, not JSON."""
    api_handler = app.exception_handlers.get(StarletteHTTPException)

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        browser = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 404 and browser and not request.url.path.startswith(_API_PREFIXES):
            return await _on_web_error(request, not_found())
        assert api_handler is not None
        response = api_handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        assert isinstance(response, Response)
        return response

    app.add_exception_handler(StarletteHTTPException, handler)


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mount the pages at `/`, the static files at `/static` and the session cookie."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in PAGE_MODULES:
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _on_login_required)
    app.add_exception_handler(WebError, _on_web_error)
    _page_404(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.cookie_secure,
    )
