"""Who is signed in, CSRF tokens, and the routers of the web pages.

The session is a cookie signed with itsdangerous (Starlette's SessionMiddleware): HttpOnly,
SameSite=Lax, `Secure` unless STAGECHECK_COOKIE_SECURE=false. It holds the user's id, the
account's `session_epoch` at sign-in and the CSRF token. Raising the epoch in the database
(sign-out, a new password, a disabled account) ends every session of that user at its next
request.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from service.config import Settings
from service.deps import StateDep
from service.errors import ServiceConfigError
from service.store.records import Actor, Scope
from service.store.users import get_user

SESSION_COOKIE = "stagecheck_session"
SESSION_KEY_FILE = "session.key"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/inloggen"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MIN_SECRET_CHARS = 32


@dataclass(frozen=True)
class WebUser:
    """The signed-in person: account id, e-mail, organisation and role."""

    id: int
    email: str
    organisation_id: int
    organisation_name: str
    organisation_type: str
    role: str

    @property
    def scope(self) -> Scope:
        """The records this user may read: its organisation's, or every one for `sbb`."""
        return Scope(None if self.role == "sbb" else self.organisation_id)

    @property
    def actor(self) -> Actor:
        """How the user appears in a record's history and feedback."""
        return Actor(key_id=None, label=self.email)

    @property
    def is_admin(self) -> bool:
        """Whether the user may delete its organisation's records."""
        return self.role == "admin"


class LoginRequired(Exception):
    """Nobody (valid) is signed in; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class WebError(Exception):
    """An error page in Dutch: status, title and a sentence that says what to do."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status_code = status_code
        self.title = title
        self.message = message


def not_found() -> WebError:
    """The one 404 of the pages: the same for a missing page and another school's record."""
    return WebError(
        404, "Niet gevonden", "Deze pagina bestaat niet, of je hebt er geen toegang toe."
    )


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies: the setting, or a random one kept in the data dir.

    The file is made once (mode 0600) and then read by every worker, so a cookie signed by
    one worker is valid in all of them and across restarts.
    """
    if settings.session_secret is not None:
        secret = settings.session_secret.get_secret_value()
        if len(secret) < _MIN_SECRET_CHARS:
            raise ServiceConfigError(
                f"STAGECHECK_SESSION_SECRET needs at least {_MIN_SECRET_CHARS} characters"
            )
        return secret
    path = settings.resolved_data_dir / SESSION_KEY_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return _read_secret(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < _MIN_SECRET_CHARS:
        raise ServiceConfigError(
            f"{path} holds no usable session secret; delete it to get a new one"
        )
    return secret


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; every form sends it back."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def check_csrf(request: Request) -> None:
    """On POST, PUT, PATCH and DELETE: the form field or X-CSRF-Token header must match."""
    if request.method not in _UNSAFE_METHODS:
        return
    expected = request.session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if (
        not isinstance(expected, str)
        or not sent
        or not secrets.compare_digest(expected.encode(), sent.encode())
    ):
        raise WebError(
            403,
            "Formulier verlopen",
            "Het formulier is verlopen of kwam niet van deze site. Laad de pagina opnieuw en "
            "probeer het nog een keer.",
        )


def page_router(**kwargs: Any) -> APIRouter:
    """A router for web pages: left out of the OpenAPI document, CSRF checked on every POST."""
    dependencies = [Depends(check_csrf), *kwargs.pop("dependencies", [])]
    return APIRouter(include_in_schema=False, dependencies=dependencies, **kwargs)


def login_url(next_path: str) -> str:
    """The sign-in page that returns to `next_path` afterwards."""
    if next_path in ("", "/"):
        return LOGIN_PATH
    return f"{LOGIN_PATH}?volgende={quote(next_path, safe='/')}"


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else (another site) becomes `/`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _load_user(session: Session, user_id: int, epoch: int) -> WebUser | None:
    user = get_user(session, user_id)
    if user is None or user.disabled_at is not None or user.session_epoch != epoch:
        return None
    organisation = user.organisation
    return WebUser(
        id=user.id,
        email=user.email,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        organisation_type=organisation.type,
        role=user.role,
    )


async def current_user(request: Request, state: StateDep) -> WebUser:
    """The signed-in user; otherwise a redirect to /inloggen (and back here afterwards)."""
    cached = request.scope.get("stagecheck.user")
    if isinstance(cached, WebUser):
        return cached
    data = request.session.get("user")
    next_path = request.url.path if request.method == "GET" else "/"
    if request.method == "GET" and request.url.query:
        next_path += "?" + request.url.query
    if not isinstance(data, dict):
        raise LoginRequired(next_path)
    user_id, epoch = data.get("id"), data.get("epoch")
    if not isinstance(user_id, int) or not isinstance(epoch, int):
        request.session.clear()
        raise LoginRequired(next_path)
    user = await state.run_db(lambda session: _load_user(session, user_id, epoch))
    if user is None:
        request.session.clear()
        raise LoginRequired(next_path)
    request.scope["stagecheck.user"] = user
    return user


UserDep = Annotated[WebUser, Depends(current_user)]


def require_role(*roles: str) -> Any:
    """A dependency: the signed-in user, who must have one of `roles` (403 page otherwise)."""

    async def check(user: UserDep) -> WebUser:
        if user.role not in roles:
            raise WebError(403, "Geen toegang", "Je rol geeft geen toegang tot deze pagina.")
        return user

    return Depends(check)


def sign_in_session(request: Request, user_id: int, epoch: int) -> None:
    """Start a fresh session for the user (a new CSRF token; nothing of the old one stays)."""
    request.session.clear()
    request.session["user"] = {"id": user_id, "epoch": epoch}
    csrf_token(request)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next page (`kind`: info, success or error)."""
    messages = request.session.setdefault("flash", [])
    messages.append({"message": message, "kind": kind})
    request.session["flash"] = messages


def take_flashes(request: Request) -> list[dict[str, str]]:
    """The messages waiting for this page, removed from the session."""
    messages = request.session.pop("flash", None)
    return messages if isinstance(messages, list) else []
