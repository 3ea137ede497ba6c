"""Sign-in and sign-out: /inloggen and /uitloggen."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from service.deps import StateDep
from service.store.models import utcnow
from service.store.users import SignIn, end_sessions, sign_in
from service.web.auth import (
    UserDep,
    WebUser,
    flash,
    page_router,
    safe_next,
    sign_in_session,
)
from service.web.render import local_time, render

router = page_router()

WRONG = "Het e-mailadres of het wachtwoord klopt niet."


def _locked_message(outcome: SignIn) -> str:
    until = outcome.locked_until
    minutes = max(1, round((until - utcnow()).total_seconds() / 60)) if until else None
    when = f" (om {local_time(until, '%H:%M')}, over ongeveer {minutes} min.)" if until else ""
    return (
        "Te veel mislukte pogingen: inloggen met dit e-mailadres is tijdelijk geblokkeerd. "
        f"Probeer het later opnieuw{when}, of vraag je beheerder om een nieuw wachtwoord."
    )


@router.get("/inloggen")
async def login_page(request: Request, volgende: str | None = None) -> Response:
    """The sign-in form; someone signed in goes straight on."""
    if isinstance(request.session.get("user"), dict):
        return RedirectResponse(safe_next(volgende), status_code=303)
    return render(request, "inloggen.html", {"next": safe_next(volgende), "email": ""})


@router.post("/inloggen")
async def login(
    request: Request,
    state: StateDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    volgende: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success a new session, else the form with a Dutch error."""
    settings = state.settings
    outcome = await state.run_db(
        lambda session: sign_in(
            session,
            email,
            password,
            settings.login_max_failures,
            timedelta(minutes=settings.login_lockout_minutes),
        )
    )
    if outcome.user is None:
        message = _locked_message(outcome) if outcome.problem == "locked" else WRONG
        return render(
            request,
            "inloggen.html",
            {"next": safe_next(volgende), "email": email, "error": message},
            status_code=429 if outcome.problem == "locked" else 400,
        )
    sign_in_session(request, outcome.user.id, outcome.user.session_epoch)
    return RedirectResponse(safe_next(volgende), status_code=303)


@router.post("/uitloggen")
async def logout(request: Request, state: StateDep, user: UserDep) -> Response:
    """Sign out: every session of this account ends, here and on other devices."""
    await _end(state, user)
    request.session.clear()
    flash(request, "Je bent uitgelogd.", "success")
    return RedirectResponse("/inloggen", status_code=303)


async def _end(state: StateDep, user: WebUser) -> None:
    await state.run_db(lambda session: end_sessions(session, user.id))
