"""Jinja2 templates of the web pages, Dutch labels, and the headers every page carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from nlp.schema import Ground
from service.web.auth import WebUser, csrf_token, take_flashes

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")

# The pages add only what is theirs; the rest (the same Content-Security-Policy as every
# response, without inline script or style, nosniff, frame and referrer rules) comes from
# service.middleware.SecurityHeadersMiddleware, so there is one policy to read and change.
SECURITY_HEADERS = {"Cache-Control": "no-store"}

VERDICT_LABELS = {"reject": "afkeuren", "review": "beoordelen", "ok": "akkoord"}
SEVERITY_LABELS = {"explicit": "expliciet", "implicit": "impliciet", "advisory": "advies"}
KIND_LABELS = {"vacancy": "vacature", "rejection": "bericht van werkgever"}
ROLE_LABELS = {"officer": "stagecoördinator", "admin": "beheerder", "sbb": "SBB"}
STATUS_LABELS = {
    "open": "open",
    "company_contacted": "bedrijf benaderd",
    "resolved": "opgelost",
    "withdrawn": "ingetrokken",
    "no_action": "geen actie",
}
# Fallback labels; the lexicon's own Dutch labels win (see ground_labels).
GROUND_LABELS = {
    "age": "leeftijd",
    "gender": "geslacht",
    "origin": "ras / afkomst",
    "nationality": "nationaliteit",
    "religion": "godsdienst / levensovertuiging",
    "disability": "handicap / chronische ziekte",
    "sexual_orientation": "seksuele gerichtheid",
    "marital_status": "burgerlijke staat / gezinssituatie",
    "political": "politieke gezindheid",
    "appearance": "uiterlijk",
    "unspecified": "onduidelijke uitsluiting",
}
GROUNDS = [g.value for g in Ground]

NAV = (
    ("controleren", "/", "Controleren"),
    ("batch", "/batch", "Batch"),
    ("opvolging", "/opvolging", "Opvolging"),
    ("bedrijven", "/bedrijven", "Bedrijven"),
    ("overzicht", "/overzicht", "Overzicht"),
)


def local_time(value: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A UTC timestamp as Dutch local time, e.g. `09-12-2026 14:05`."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_ZONE).strftime(fmt)


def percent(value: float | None) -> str:
    """0.934 -> `93%`."""
    return "" if value is None else f"{round(value * 100)}%"


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters["local_time"] = local_time
templates.env.filters["percent"] = percent
templates.env.globals.update(
    VERDICT_LABELS=VERDICT_LABELS,
    SEVERITY_LABELS=SEVERITY_LABELS,
    KIND_LABELS=KIND_LABELS,
    ROLE_LABELS=ROLE_LABELS,
    STATUS_LABELS=STATUS_LABELS,
    GROUND_LABELS=GROUND_LABELS,
    GROUNDS=GROUNDS,
    NAV=NAV,
)


def ground_labels(request: Request) -> dict[str, str]:
    """Each ground's Dutch label, from the lexicon the analyzer was built with."""
    state = getattr(request.app.state, "service", None)
    labels = dict(GROUND_LABELS)
    if state is not None:
        for code, info in state.analyzer.lexicon.grounds.items():
            labels[str(code)] = info.label.nl
    return labels


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: WebUser | None = None,
    active: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page: adds the user, the CSRF token, waiting messages and the headers."""
    values: dict[str, Any] = {
        "user": user,
        "active": active,
        "csrf_token": csrf_token(request),
        "flashes": take_flashes(request),
        "ground_labels": ground_labels(request),
    }
    values.update(context or {})
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response
