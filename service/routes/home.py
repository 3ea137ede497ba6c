"""GET /: reserved for the officers' web page; until it is built, a short Dutch notice."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PLACEHOLDER = """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stagecheck</title>
</head>
<body>
<h1>Stagecheck</h1>
<p>Hier komt de webpagina waarop stagecoördinatoren een vacature of bericht kunnen plakken
en de uitleg per bevinding zien. <strong>Die pagina is nog niet gebouwd.</strong></p>
<p>De HTTP API draait wel. Ontwikkelaars vinden de documentatie, met voorbeelden in het
Nederlands en het Engels, op <a href="/docs">/docs</a>.</p>
<p>Voor één tekst op de opdrachtregel: <code>stagecheck analyze vacature.txt</code>.</p>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    """GET /: the placeholder page."""
    return HTMLResponse(PLACEHOLDER)
