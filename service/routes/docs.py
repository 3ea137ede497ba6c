"""GET /docs: Swagger UI served from the app's own files, so it works offline under the CSP.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script; both
are refused by the Content-Security-Policy (service.middleware.SecurityHeadersMiddleware).
Here the page is static HTML, the bundle comes from the `swagger-ui-bundle` package and the
start-up code from `service/docs_assets/swagger-init.js`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from service.problem import NOT_FOUND, ProblemError

router = APIRouter(include_in_schema=False)

ASSETS_PREFIX = "/docs/assets"
_OWN_ASSETS = Path(__file__).resolve().parent.parent / "docs_assets"
_BUNDLE = Path(swagger_ui_path)
# Only these files are served; nothing else of either folder is reachable.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_BUNDLE / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_BUNDLE / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (_BUNDLE / "favicon-32x32.png", "image/png"),
    "swagger-init.js": (_OWN_ASSETS / "swagger-init.js", "text/javascript"),
}

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stagecheck API - Swagger UI</title>
<link rel="stylesheet" href="{ASSETS_PREFIX}/swagger-ui.css">
<link rel="icon" href="{ASSETS_PREFIX}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{ASSETS_PREFIX}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PREFIX}/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """GET /docs: the Swagger UI page."""
    return HTMLResponse(PAGE)


@router.get(ASSETS_PREFIX + "/{name}")
def swagger_asset(name: str) -> FileResponse:
    """GET /docs/assets/{name}: one of Swagger UI's files, cacheable for a day."""
    asset = ASSETS.get(name)
    if asset is None:
        raise ProblemError(NOT_FOUND, "no such file")
    path, media_type = asset
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=86400"})
