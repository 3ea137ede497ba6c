"""Request logs: method, route, status, latency, text length and request id, never the text."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nlp.analyzer import Analyzer

MARKER = "Zebravink7731Q"


class _Exploding:
    def __init__(self, real: Analyzer) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def analyze(self, text: str, **kwargs: Any) -> Any:
        raise ValueError(f"cannot handle {text}")


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        if record.name.startswith(("httpx", "httpcore")):
            continue  # the test client's own log, not the server's
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_no_raw_text_reaches_the_logs(
    make_client: Any, auth: dict[str, str], rules: Analyzer, caplog: pytest.LogCaptureFixture
) -> None:
    text = f"Wij zoeken een stagiair {MARKER} van max. 22 jaar."
    caplog.set_level(logging.DEBUG)
    with make_client(max_text_chars=500) as client:
        assert client.post("/v1/analyze", json={"text": text}, headers=auth).status_code == 200
        batch = {"items": [{"text": text}, {"text": text, "kind": MARKER}, {"text": MARKER * 50}]}
        assert client.post("/v1/analyze/batch", json=batch, headers=auth).status_code == 200
        invalid = {"text": text, "kind": MARKER, "lang": MARKER, MARKER: MARKER}
        assert client.post("/v1/analyze", json=invalid, headers=auth).status_code == 422
        too_long = {"text": MARKER * 50}
        assert client.post("/v1/analyze", json=too_long, headers=auth).status_code == 413
        broken = f'{{"text": "{MARKER}",'.encode()
        response = client.post(
            "/v1/analyze", content=broken, headers={**auth, "Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert client.post("/v1/analyze", json={"text": MARKER}, headers={"X-API-Key": MARKER})
        assert client.get(f"/v1/{MARKER}", headers=auth).status_code == 404
    with make_client(analyzer=_Exploding(rules)) as client:
        assert client.post("/v1/analyze", json={"text": text}, headers=auth).status_code == 500
    logged = _everything_logged(caplog)
    assert caplog.records, "nothing was logged at all"
    assert MARKER not in logged
    assert "max. 22 jaar" not in logged


def test_access_log_has_the_request_fields(
    client: TestClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stagecheck.access")
    text = "Wij zoeken een stagiair van max. 22 jaar."
    response = client.post(
        "/v1/analyze", json={"text": text}, headers={**auth, "X-Request-ID": "req-42"}
    )
    assert response.status_code == 200
    record = next(r for r in caplog.records if r.name == "stagecheck.access")
    message = record.getMessage()
    assert message.startswith("POST /v1/analyze status=200 latency_ms=")
    assert f"text_chars={len(text)}" in message
    assert "request_id=req-42" in message
    assert "key=sc_" in message
    assert record.__dict__["route"] == "/v1/analyze"
    assert record.__dict__["status"] == 200
    assert record.__dict__["text_chars"] == len(text)
    assert record.__dict__["latency_ms"] >= 0


def test_unhandled_errors_are_logged_with_type_and_request_id(
    make_client: Any, auth: dict[str, str], rules: Analyzer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="stagecheck.error")
    with make_client(analyzer=_Exploding(rules)) as client:
        response = client.post(
            "/v1/analyze", json={"text": "x"}, headers={**auth, "X-Request-ID": "req-500"}
        )
    assert response.status_code == 500
    record = next(r for r in caplog.records if r.name == "stagecheck.error")
    assert "ValueError" in record.getMessage()
    assert "request_id=req-500" in record.getMessage()
    assert "Traceback" not in response.text
