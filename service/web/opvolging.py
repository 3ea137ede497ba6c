"""Opvolging: a placeholder until this page is built (replace this module's contents)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from service.web.auth import UserDep, page_router
from service.web.render import render

router = page_router()


@router.get("/opvolging")
async def page(request: Request, user: UserDep) -> HTMLResponse:
    """GET /opvolging: a short notice that the page is coming."""
    return render(
        request, "placeholder.html", {"title": "Opvolging"}, user=user, active="opvolging"
    )
