"""Security headers on every response, and /docs working offline under the CSP."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from service.middleware import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _assert_hardened(response: Any) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def test_csp_allows_only_own_files_and_no_frames() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_every_route_and_every_error_carries_the_headers(
    make_client: Any, auth: dict[str, str]
) -> None:
    with make_client(max_body_bytes=2_000) as client:
        responses = [
            client.get("/"),
            client.get("/health"),
            client.get("/ready"),
            client.get("/metrics"),
            client.get("/problems"),
            client.get("/openapi.json"),
            client.get("/docs"),
            client.get("/docs/assets/swagger-ui-bundle.js"),
            client.get("/v1/grounds", headers=auth),
            client.get("/v1/model", headers=auth),
            client.post("/v1/analyze", json={"text": "Stagiair gezocht."}, headers=auth),
            client.post("/v1/analyze", json={"text": "x"}),  # 401
            client.post("/v1/analyze", content=b"{", headers=auth),  # 415
            client.post("/v1/analyze", json={"text": "x" * 5_000}, headers=auth),  # 413
            client.get("/no/such/path"),  # 404
            client.delete("/health"),  # 405
        ]
        statuses = {r.status_code for r in responses}
        assert {200, 401, 404, 405, 413, 415} <= statuses
        for response in responses:
            _assert_hardened(response)
        keyed = client.get("/v1/grounds", headers=auth)
        assert keyed.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in keyed.headers


def test_a_crash_is_a_hardened_500(make_client: Any, auth: dict[str, str]) -> None:
    with make_client() as client:

        def explode(*_: Any, **__: Any) -> Any:
            raise RuntimeError("boom")

        client.app.state.service.analyzer.analyze = explode  # type: ignore[attr-defined]
        try:
            response = client.post("/v1/analyze", json={"text": "Stagiair."}, headers=auth)
        finally:
            del client.app.state.service.analyzer.analyze  # type: ignore[attr-defined]
    assert response.status_code == 500
    _assert_hardened(response)


def test_docs_page_has_no_inline_script_or_style_and_no_other_origin(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "<style" not in page and " style=" not in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all(body.strip() == "" and "src=" in attrs for attrs, body in scripts)
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls)
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    assert (
        client.get("/docs/assets/swagger-ui-bundle.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    init = client.get("/docs/assets/swagger-init.js").text
    assert "SwaggerUIBundle" in init and "http" not in init
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F..%2Fconfig.py").status_code == 404


def test_behind_https_adds_hsts_and_secures_every_cookie() -> None:
    def set_cookies(_: Any) -> PlainTextResponse:
        response = PlainTextResponse("ok")
        response.set_cookie("session", "abc", httponly=True)
        response.set_cookie("already", "x", secure=True)
        return response

    inner = Starlette(routes=[Route("/", set_cookies)])
    plain = TestClient(SecurityHeadersMiddleware(inner, behind_https=False))
    assert all("secure" not in c.lower() for c in _cookies(plain.get("/")) if "session" in c)
    assert "strict-transport-security" not in plain.get("/").headers
    secured = TestClient(SecurityHeadersMiddleware(inner, behind_https=True)).get("/")
    cookies = _cookies(secured)
    assert len(cookies) == 2 and all(c.lower().count("secure") == 1 for c in cookies)
    assert secured.headers["strict-transport-security"].startswith("max-age=")


def _cookies(response: Any) -> list[str]:
    return [value for key, value in response.headers.multi_items() if key == "set-cookie"]
