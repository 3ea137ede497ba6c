"""Grounds, model card, health, readiness, metrics, problems, the web page's door and docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from nlp.analyzer import Analyzer
from nlp.lexicon import default_lexicon
from nlp.schema import Ground
from service.config import DATABASE_FILE
from service.model_card import build_model_card
from service.problem import PROBLEM_TYPES
from service.store.db import make_engine


def test_grounds_are_the_lexicon_taxonomy(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/v1/grounds", headers=auth)
    assert response.status_code == 200
    grounds = response.json()["grounds"]
    assert [g["code"] for g in grounds] == [g.value for g in default_lexicon().grounds]
    assert {g["code"] for g in grounds} == {g.value for g in Ground}
    age = next(g for g in grounds if g["code"] == "age")
    info = default_lexicon().grounds[Ground.AGE]
    assert age["label"] == {"nl": info.label.nl, "en": info.label.en}
    assert age["legal_basis"] == info.legal_basis == "WGBL art. 3"
    assert age["description"]["nl"] == info.description.nl
    assert age["description"]["en"] == info.description.en


def test_model_card_says_rules_only_without_a_model(
    client: TestClient, auth: dict[str, str], rules: Analyzer
) -> None:
    card = client.get("/v1/model", headers=auth).json()
    assert card["mode"] == "rules-only"
    assert card["model"] is None
    assert card["model_version"] == rules.model_version
    assert card["lexicon"]["digest"] == rules.lexicon.digest
    assert card["lexicon"]["patterns"] == rules.lexicon.pattern_counts()


class _Scorer:
    """Stands in for a loaded model: only what the card reads."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.artifact = type(
            "Artifact",
            (),
            {
                "data_sha256": "d" * 64,
                "lexicon_digest": "l" * 64,
                "thresholds": {"veto_below": 0.2},
                "trained_records": 10,
                "metrics": {"test": {"rules + model": {"overall": {"f1": 0.5}}}},
            },
        )()


def test_model_card_reads_metrics_json_for_the_loaded_model(
    tmp_path: Path, rules: Analyzer
) -> None:
    analyzer = Analyzer.__new__(Analyzer)
    analyzer.__dict__.update(rules.__dict__)
    analyzer.scorer = _Scorer("abc123")
    metrics_file = tmp_path / "metrics.json"
    metrics_file.write_text(
        json.dumps({"model_version": "abc123", "data_sha256": "f" * 64, "test": {"x": 1}})
    )
    card = build_model_card(analyzer, metrics_file)
    assert card.mode == "rules+model"
    assert card.model is not None
    assert card.model["data_sha256"] == "f" * 64
    assert card.model["source"] == "models/metrics.json"

    metrics_file.write_text(json.dumps({"model_version": "another", "data_sha256": "0" * 64}))
    card = build_model_card(analyzer, metrics_file)
    assert card.model is not None
    assert card.model["source"] == "model artefact"
    assert card.model["data_sha256"] == "d" * 64
    assert card.model["test"] == {"rules + model": {"f1": 0.5}}
    assert "another model version" in card.note

    card = build_model_card(analyzer, tmp_path / "absent.json")
    assert card.model is not None and card.model["model_version"] == "abc123"


def test_health_and_ready(client: TestClient, rules: Analyzer) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["lexicons"] == "ok"
    assert body["model_version"] == rules.model_version


def test_ready_is_503_when_the_database_is_not_usable(client: TestClient, data_dir: Path) -> None:
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    engine.dispose()
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/not-ready"
    assert body["checks"]["database"].startswith("schema 0000_older")
    assert client.get("/health").status_code == 200


def test_ready_wants_the_model_unless_rules_only(make_client: Any) -> None:
    with make_client(rules_only=False) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "model" in response.json()["detail"]


def _sample(metrics: str, name: str, **labels: str) -> float:
    for line in metrics.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_latency_verdicts_and_grounds(
    client: TestClient, auth: dict[str, str]
) -> None:
    before = client.get("/metrics").text
    text_ = "Wij zoeken een stagiair van max. 22 jaar."
    assert client.post("/v1/analyze", json={"text": text_}, headers=auth).status_code == 200
    assert client.post("/v1/analyze", json={"text": ""}, headers=auth).status_code == 422
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def grew(name: str, by: float = 1.0, **labels: str) -> bool:
        return _sample(after, name, **labels) - _sample(before, name, **labels) == by

    ok = {"method": "POST", "route": "/v1/analyze", "status": "200"}
    assert grew("stagecheck_http_requests_total", **ok)
    assert grew("stagecheck_http_requests_total", method="POST", route="/v1/analyze", status="422")
    assert grew("stagecheck_http_request_duration_seconds_count", 2, route="/v1/analyze")
    assert grew("stagecheck_analyses_total", kind="vacancy", lang="nl", verdict="reject")
    assert grew("stagecheck_findings_total", ground="age", severity="explicit")


def test_metrics_route_label_is_the_template_not_the_path(client: TestClient) -> None:
    client.get("/problems/text-too-long")
    client.get("/some/unknown/path")
    metrics = client.get("/metrics").text
    assert 'route="/problems/{slug}"' in metrics
    assert 'route="unmatched"' in metrics
    assert "/some/unknown/path" not in metrics


def test_every_problem_type_is_described(client: TestClient) -> None:
    listed = client.get("/problems").json()
    assert {p["type"] for p in listed} == {p.uri for p in PROBLEM_TYPES.values()}
    one = client.get("/problems/rate-limited").json()
    assert one["status"] == 429
    missing = client.get("/problems/nope")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"


def test_unknown_paths_and_methods_are_problems(client: TestClient) -> None:
    missing = client.get("/v2/analyze")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.get("/v1/analyze")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "/problems/method-not-allowed"
    assert "POST" in wrong.headers["allow"]


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    mine = client.get("/health", headers={"X-Request-ID": "portal-123.a"})
    assert mine.headers["x-request-id"] == "portal-123.a"
    made = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["x-request-id"] != "bad id\twith spaces"
    assert len(made.headers["x-request-id"]) == 32


def test_root_is_the_dutch_web_page_behind_a_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen"
    page = client.get("/inloggen")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'lang="nl"' in page.text
    assert "Inloggen" in page.text


def test_docs_are_served(client: TestClient) -> None:
    assert "swagger" in client.get("/docs").text.lower()
    assert client.get("/redoc").status_code == 404  # ReDoc needs a CDN: not served


def test_docs_can_be_turned_off(make_client: Any) -> None:
    with make_client(docs=False) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    """The generated OpenAPI document."""
    schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


def test_openapi_documents_every_route_with_real_examples(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    for path in (
        "/v1/analyze",
        "/v1/analyze/batch",
        "/v1/grounds",
        "/v1/model",
        "/health",
        "/ready",
    ):
        operation = next(iter(paths[path].values()))
        content = operation["responses"]["200"]["content"]["application/json"]
        assert content.get("examples"), f"{path} has no response examples"
    analyze = paths["/v1/analyze"]["post"]
    body = analyze["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/AnalyzeRequest"}
    names = set(body["examples"])
    assert {"nl_vacancy", "en_vacancy", "nl_rejection", "en_rejection"} <= names
    assert set(analyze["responses"]) >= {"200", "400", "401", "413", "415", "422", "429"}
    problem = analyze["responses"]["422"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert problem["examples"]
    schemas = openapi["components"]["schemas"]
    assert {"AnalyzeRequest", "BatchRequest", "Problem", "Analysis", "Finding"} <= set(schemas)
    assert "findings" in schemas["Analysis"]["properties"]
    assert set(openapi["components"]["securitySchemes"]) == {"bearer", "apiKey"}
