"""POST /v1/analyze and /v1/analyze/batch: results, limits and every input error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from nlp.analyzer import Analyzer

PROBLEM = "application/problem+json"
AGE_NL = "Wij zoeken een stagiair van max. 22 jaar. Je werkt op onze afdeling logistiek."
AGE_EN = "We are looking for an intern. Applicants must be aged 18-25."


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The response is a problem+json of this status and type; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def fields(body: dict[str, Any]) -> list[str]:
    """The offending fields a problem names."""
    return [error["field"] for error in body.get("errors", [])]


def test_analyze_dutch_vacancy_returns_the_contract_object(
    client: TestClient, auth: dict[str, str], rules: Analyzer
) -> None:
    response = client.post("/v1/analyze", json={"text": AGE_NL, "id": "vac-1"}, headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == rules.analyze(AGE_NL, id="vac-1").model_dump(mode="json")
    assert body["id"] == "vac-1"
    assert body["lang"] == "nl"
    assert body["verdict"] == "reject"
    assert "text" not in body and "trace" not in body
    for finding in body["findings"]:
        assert AGE_NL[finding["start"] : finding["end"]] == finding["quote"]
    age = next(f for f in body["findings"] if f["ground"] == "age")
    assert age["quote"] == "max. 22 jaar"
    assert age["legal_basis"] == "WGBL art. 3"


def test_analyze_english_text_explains_in_english(client: TestClient, auth: dict[str, str]) -> None:
    body = client.post("/v1/analyze", json={"text": AGE_EN}, headers=auth).json()
    assert body["lang"] == "en"
    age = next(f for f in body["findings"] if f["ground"] == "age")
    assert age["quote"] == "aged 18-25"
    assert "age" in age["explanation"]


def test_analyze_options_kind_lang_html_id_and_explain(
    client: TestClient, auth: dict[str, str]
) -> None:
    html = "<h1>Stage</h1><p>Je bent <b>max. 22 jaar</b>.</p>"
    body = client.post(
        "/v1/analyze",
        json={
            "text": html,
            "content_type": "text/html",
            "kind": "rejection",
            "lang": "nl",
            "id": 42,
            "explain": True,
        },
        headers=auth,
    ).json()
    assert body["kind"] == "rejection"
    assert body["id"] == "42"
    assert "<" not in body["text"]
    for finding in body["findings"]:
        assert body["text"][finding["start"] : finding["end"]] == finding["quote"]
    assert body["trace"] and body["trace"][0]["steps"]


def test_lang_auto_and_null_detect_the_language(client: TestClient, auth: dict[str, str]) -> None:
    for lang in ("auto", None):
        body = client.post("/v1/analyze", json={"text": AGE_EN, "lang": lang}, headers=auth).json()
        assert body["lang"] == "en"


def test_batch_keeps_input_order_and_isolates_a_bad_item(
    client: TestClient, auth: dict[str, str]
) -> None:
    items = [
        {"id": "a", "text": AGE_NL},
        {"id": "b", "text": "Stagiair gezocht.", "kind": "stage"},
        {"id": "c", "text": AGE_EN},
        "not an object",
        {"id": "e", "text": "   "},
        {"id": "f", "text": "Stagiair receptie gezocht."},
    ]
    response = client.post("/v1/analyze/batch", json={"items": items}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert body["failed"] == 3
    results = body["results"]
    assert [r.get("id") for r in results] == ["a", "b", "c", None, "e", "f"]
    assert results[0]["verdict"] == "reject" and results[0]["lang"] == "nl"
    assert results[2]["lang"] == "en"
    assert results[5]["verdict"] == "ok"
    bad = results[1]
    assert bad["index"] == 1
    assert bad["error"]["type"] == "/problems/validation-error"
    assert bad["error"]["status"] == 422
    assert fields(bad["error"]) == ["items[1].kind"]
    assert results[3]["index"] == 3 and fields(results[3]["error"]) == ["items[3]"]
    assert results[4]["error"]["type"] == "/problems/empty-text"
    assert fields(results[4]["error"]) == ["items[4].text"]


def test_batch_item_over_the_text_limit_fails_alone(make_client: Any, auth: dict[str, str]) -> None:
    with make_client(max_text_chars=50) as client:
        items = [{"text": "x" * 51}, {"text": AGE_NL[:50]}]
        body = client.post("/v1/analyze/batch", json={"items": items}, headers=auth).json()
    assert body["failed"] == 1
    assert body["results"][0]["error"]["type"] == "/problems/text-too-long"
    assert body["results"][0]["error"]["status"] == 413
    assert "verdict" in body["results"][1]


def test_batch_over_the_item_limit_is_413(make_client: Any, auth: dict[str, str]) -> None:
    with make_client(max_batch_items=3) as client:
        items = [{"text": "Stagiair gezocht."}] * 4
        response = client.post("/v1/analyze/batch", json={"items": items}, headers=auth)
        assert_problem(response, 413, "batch-too-large")
        ok = client.post("/v1/analyze/batch", json={"items": items[:3]}, headers=auth)
        assert ok.status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": "x"}, "items"),
        ({"items": [], "store": True}, "store"),
    ],
)
def test_batch_envelope_errors_name_the_field(
    client: TestClient, auth: dict[str, str], payload: dict[str, Any], field: str
) -> None:
    body = assert_problem(
        client.post("/v1/analyze/batch", json=payload, headers=auth), 422, "validation-error"
    )
    assert field in fields(body)


def test_text_over_the_limit_is_413(make_client: Any, auth: dict[str, str]) -> None:
    with make_client(max_text_chars=100) as client:
        response = client.post("/v1/analyze", json={"text": "a" * 101}, headers=auth)
        body = assert_problem(response, 413, "text-too-long")
        assert fields(body) == ["text"]
        assert "100" in body["detail"]
        ok = client.post("/v1/analyze", json={"text": "a" * 100}, headers=auth)
        assert ok.status_code == 200


def test_body_over_the_limit_is_413_by_length_and_while_streaming(
    make_client: Any, auth: dict[str, str]
) -> None:
    with make_client(max_body_bytes=1_000) as client:
        big = {"text": "a" * 2_000}
        assert_problem(client.post("/v1/analyze", json=big, headers=auth), 413, "body-too-large")

        def chunks() -> Any:  # no Content-Length: the limit counts the bytes as they arrive
            yield b'{"text": "'
            for _ in range(20):
                yield b"a" * 100
            yield b'"}'

        response = client.post(
            "/v1/analyze",
            content=chunks(),
            headers={**auth, "Content-Type": "application/json"},
        )
        assert_problem(response, 413, "body-too-large")


def test_malformed_json_is_400(client: TestClient, auth: dict[str, str]) -> None:
    for raw in (b'{"text": "max. 22 jaar",}', b"", b"\xff\xfe{", b"[1, 2"):
        response = client.post(
            "/v1/analyze", content=raw, headers={**auth, "Content-Type": "application/json"}
        )
        assert_problem(response, 400, "malformed-json")


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_other_content_types_are_415(
    client: TestClient, auth: dict[str, str], content_type: str | None
) -> None:
    headers = dict(auth)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/v1/analyze", content=b'{"text": "x"}', headers=headers)
    assert_problem(response, 415, "unsupported-media-type")


def test_json_with_charset_and_problem_suffix_are_accepted(
    client: TestClient, auth: dict[str, str]
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = client.post(
            "/v1/analyze",
            content=b'{"text": "Stagiair gezocht."}',
            headers={**auth, "Content-Type": content_type},
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "vacancy"}, "text"),
        ({"text": ""}, "text"),
        ({"text": 12}, "text"),
        ({"text": "x", "kind": "stage"}, "kind"),
        ({"text": "x", "lang": "de"}, "lang"),
        ({"text": "x", "content_type": "application/pdf"}, "content_type"),
        ({"text": "x", "explain": "maybe"}, "explain"),
        ({"text": "x", "id": "i" * 300}, "id"),
        ({"text": "x", "store": "sometimes"}, "store"),
        ({"text": "x", "company": "12345678"}, "company"),
        (["x"], "body"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(
    client: TestClient, auth: dict[str, str], payload: Any, field: str
) -> None:
    body = assert_problem(
        client.post("/v1/analyze", json=payload, headers=auth), 422, "validation-error"
    )
    assert fields(body) == [field]
    assert field in body["detail"]
    for error in body["errors"]:
        assert "input" not in error


def test_whitespace_and_binary_texts_are_422(client: TestClient, auth: dict[str, str]) -> None:
    empty = assert_problem(
        client.post("/v1/analyze", json={"text": " \n\t "}, headers=auth), 422, "empty-text"
    )
    assert fields(empty) == ["text"]
    html = assert_problem(
        client.post(
            "/v1/analyze",
            json={"text": "<p> </p>", "content_type": "text/html"},
            headers=auth,
        ),
        422,
        "empty-text",
    )
    assert "HTML" in html["detail"]
    binary = assert_problem(
        client.post("/v1/analyze", json={"text": "PK\u0003\u0004\u0000"}, headers=auth),
        422,
        "binary-text",
    )
    assert fields(binary) == ["text"]


class _Exploding:
    """An analyzer whose analysis fails with a message that must not reach anyone."""

    def __init__(self, real: Analyzer) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def analyze(self, text: str, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom while reading {text}")

    def analyze_many(self, requests: list[Any]) -> Any:
        raise RuntimeError(f"boom while reading {requests[0].text}")


def test_unexpected_errors_are_500_without_a_stack_trace(
    make_client: Any, auth: dict[str, str], rules: Analyzer
) -> None:
    with make_client(analyzer=_Exploding(rules)) as client:
        response = client.post("/v1/analyze", json={"text": "geheime tekst"}, headers=auth)
    body = assert_problem(response, 500, "internal-error")
    assert "Traceback" not in response.text
    assert "boom" not in response.text
    assert "geheime" not in response.text
    assert set(body) == {"type", "title", "status", "detail", "instance", "request_id"}


def test_analysis_runs_off_the_event_loop(
    make_client: Any, auth: dict[str, str], rules: Analyzer
) -> None:
    import asyncio

    seen: list[str] = []

    def record_thread() -> None:
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("worker thread")

    class Recording(_Exploding):
        def analyze(self, text: str, **kwargs: Any) -> Any:
            record_thread()
            return self._real.analyze(text, **kwargs)

        def analyze_many(self, requests: list[Any]) -> Any:  # the batch route: one call
            record_thread()
            return self._real.analyze_many(requests)

    with make_client(analyzer=Recording(rules)) as client:
        assert client.post("/v1/analyze", json={"text": AGE_NL}, headers=auth).status_code == 200
        batch = {"items": [{"text": AGE_NL}, {"text": AGE_EN}]}
        assert client.post("/v1/analyze/batch", json=batch, headers=auth).status_code == 200
    assert seen == ["worker thread"] * 2
