"""API keys, start-up refusals and the per-key rate limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from nlp.analyzer import Analyzer
from service.app import create_app
from service.config import DATABASE_FILE, Settings
from service.errors import DatabaseBehindError, ServiceConfigError
from service.store.db import make_engine, make_session_factory
from service.store.keys import create_key, revoke_key
from service.store.models import utcnow

BODY = {"text": "Stagiair gezocht, max. 21 jaar."}


def _problem_type(response: Any) -> str:
    return str(response.json()["type"])


def test_no_key_is_401_with_a_challenge(client: TestClient) -> None:
    for response in (client.post("/v1/analyze", json=BODY), client.get("/v1/grounds")):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert _problem_type(response) == "/problems/api-key-missing"
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer sc_wrong"},
        {"X-API-Key": "sc_wrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
)
def test_bad_keys_are_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/grounds", headers=headers)
    assert response.status_code == 401
    assert _problem_type(response) == "/problems/api-key-invalid"


def test_bearer_and_x_api_key_are_both_accepted(client: TestClient, api_key: str) -> None:
    bearer = client.post("/v1/analyze", json=BODY, headers={"Authorization": f"Bearer {api_key}"})
    header = client.post("/v1/analyze", json=BODY, headers={"X-API-Key": api_key})
    lower = client.post("/v1/analyze", json=BODY, headers={"authorization": f"bearer {api_key}"})
    assert bearer.status_code == header.status_code == lower.status_code == 200
    assert bearer.json() == header.json()


def test_auth_comes_before_parsing_the_body(client: TestClient) -> None:
    response = client.post(
        "/v1/analyze", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert client.post("/v1/analyze", content=b"x").status_code == 401


def _sessions(data_dir: Path) -> Any:
    return make_session_factory(make_engine(f"sqlite:///{data_dir / DATABASE_FILE}"))


def test_revoked_and_expired_keys_are_401(client: TestClient, data_dir: Path) -> None:
    with _sessions(data_dir)() as session:
        revoked, revoked_secret = create_key(session, "old portal")
        _, expired_secret = create_key(session, "trial", expires_at=utcnow() - timedelta(days=1))
        _, future_secret = create_key(session, "pilot", expires_at=utcnow() + timedelta(days=1))
    assert client.get("/v1/grounds", headers={"X-API-Key": revoked_secret}).status_code == 200
    with _sessions(data_dir)() as session:
        revoke_key(session, revoked.prefix)
    response = client.get("/v1/grounds", headers={"X-API-Key": revoked_secret})
    assert response.status_code == 401
    assert response.json()["detail"] == "the API key is revoked"
    response = client.get("/v1/grounds", headers={"X-API-Key": expired_secret})
    assert response.status_code == 401
    assert response.json()["detail"] == "the API key is expired"
    assert client.get("/v1/grounds", headers={"X-API-Key": future_secret}).status_code == 200


def test_operations_routes_need_no_key(client: TestClient) -> None:
    for path in ("/health", "/ready", "/metrics", "/problems", "/docs", "/openapi.json", "/"):
        assert client.get(path).status_code == 200, path


def test_auth_disabled_lets_everyone_in_and_says_so(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"), make_client(auth="disabled") as client:
        assert client.post("/v1/analyze", json=BODY).status_code == 200
    assert any("AUTHENTICATION IS DISABLED" in r.getMessage() for r in caplog.records)


def test_start_up_refuses_auth_without_any_active_key(
    make_settings: Callable[..., Settings], data_dir: Path, rules: Analyzer, api_key: str
) -> None:
    with _sessions(data_dir)() as session:
        revoke_key(session, "1")
    app = create_app(make_settings(), analyzer=rules)
    with pytest.raises(ServiceConfigError, match="stagecheck keys create"), TestClient(app):
        pass


def test_start_up_refuses_a_database_that_is_behind(
    make_settings: Callable[..., Settings], tmp_path: Path, rules: Analyzer
) -> None:
    app = create_app(make_settings(data_dir=tmp_path / "empty"), analyzer=rules)
    with pytest.raises(DatabaseBehindError, match="stagecheck db upgrade"), TestClient(app):
        pass


def test_rate_limit_is_429_with_retry_after(make_client: Any, api_key: str, new_key: Any) -> None:
    headers = {"X-API-Key": api_key}
    with make_client(rate_limit_per_minute=2) as client:
        first = client.get("/v1/grounds", headers=headers)
        assert first.headers["x-ratelimit-limit"] == "2"
        assert first.headers["x-ratelimit-remaining"] == "1"
        assert client.post("/v1/analyze", json=BODY, headers=headers).status_code == 200
        limited = client.get("/v1/grounds", headers=headers)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert _problem_type(limited) == "/problems/rate-limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 30
        assert limited.headers["x-ratelimit-remaining"] == "0"
        # The limit is per key: another key still passes, and health is never limited.
        other = client.get("/v1/grounds", headers={"X-API-Key": new_key("second")})
        assert other.status_code == 200
        assert client.get("/health").status_code == 200


def test_rate_limit_zero_turns_it_off(make_client: Any, auth: dict[str, str]) -> None:
    with make_client(rate_limit_per_minute=0) as client:
        for _ in range(5):
            response = client.get("/v1/grounds", headers=auth)
            assert response.status_code == 200
            assert "x-ratelimit-limit" not in response.headers


def test_key_database_failure_is_503(
    client: TestClient, auth: dict[str, str], data_dir: Path
) -> None:
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE api_keys RENAME TO api_keys_moved"))
    engine.dispose()
    response = client.get("/v1/grounds", headers=auth)
    assert response.status_code == 503
    assert _problem_type(response) == "/problems/service-unavailable"
