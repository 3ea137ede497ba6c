"""Controleren: paste or upload a vacancy or an employer's message and see what is wrong."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from service.web.auth import UserDep, page_router
from service.web.render import render

router = page_router()


@router.get("/")
async def form(request: Request, user: UserDep) -> HTMLResponse:
    """GET /: the form."""
    return render(request, "controleren.html", {"form": {}}, user=user, active="controleren")
