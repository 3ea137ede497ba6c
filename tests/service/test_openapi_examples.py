"""The OpenAPI examples are real outputs: the analyzer still says what they show."""

from __future__ import annotations

from typing import Any

import pytest

from nlp.analyzer import Analyzer
from service.openapi_examples import ANALYZE_EXAMPLES, BATCH_EXAMPLE, load_examples
from service.problem import PROBLEM_TYPES

REGENERATE = "regenerate them with `.venv/bin/python -m service.openapi_examples`"


def _essentials(analysis: dict[str, Any]) -> dict[str, Any]:
    """What an example must keep showing; risk and scores may move with the model."""
    return {
        "id": analysis.get("id"),
        "kind": analysis["kind"],
        "lang": analysis["lang"],
        "verdict": analysis["verdict"],
        "findings": [
            (f["ground"], f["severity"], f["start"], f["end"], f["quote"], f["source"])
            for f in analysis["findings"]
        ],
    }


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    """The stored examples file."""
    stored = load_examples()
    assert stored, f"service/openapi_examples.json is missing; {REGENERATE}"
    return stored


@pytest.fixture(scope="module")
def example_analyzer(examples: dict[str, Any], request: pytest.FixtureRequest) -> Analyzer:
    """The analyzer the examples were made with: rules only, or rules and the model."""
    name = "rules" if examples.get("rules_only") else "analyzer"
    analyzer: Analyzer = request.getfixturevalue(name)
    return analyzer


def _run(analyzer: Analyzer, request: dict[str, Any]) -> dict[str, Any]:
    lang = request.get("lang")
    return analyzer.analyze(
        request["text"],
        kind=request.get("kind", "vacancy"),
        lang=None if lang in (None, "auto") else lang,
        content_type=request.get("content_type", "text/plain"),
        id=request.get("id"),
        explain=request.get("explain", False),
    ).model_dump(mode="json")


def test_analyze_examples_match_the_analyzer(
    examples: dict[str, Any], example_analyzer: Analyzer
) -> None:
    stored = examples["routes"]["analyze"]
    assert set(stored) == set(ANALYZE_EXAMPLES), REGENERATE
    langs = set()
    for name, example in stored.items():
        assert example["request"] == ANALYZE_EXAMPLES[name][1], f"{name}: {REGENERATE}"
        actual = _run(example_analyzer, example["request"])
        assert _essentials(example["response"]) == _essentials(actual), f"{name}: {REGENERATE}"
        langs.add(actual["lang"])
    assert langs == {"nl", "en"}


def test_batch_example_matches_the_analyzer(
    examples: dict[str, Any], example_analyzer: Analyzer
) -> None:
    example = examples["routes"]["analyze_batch"]["nl_en_mixed"]
    assert example["request"] == BATCH_EXAMPLE, REGENERATE
    results = example["response"]["results"]
    assert example["response"]["failed"] == 1
    for item, result in zip(BATCH_EXAMPLE["items"], results, strict=True):
        if "error" in result:
            assert result["error"]["status"] == 422
            continue
        assert _essentials(result) == _essentials(_run(example_analyzer, item)), REGENERATE


def test_every_problem_type_but_the_generic_one_has_a_real_example(
    examples: dict[str, Any],
) -> None:
    recorded = examples["problems"]
    assert set(recorded) == set(PROBLEM_TYPES) - {"http-error"}
    for slug, body in recorded.items():
        assert body["type"] == f"/problems/{slug}"
        assert body["status"] == PROBLEM_TYPES[slug].status
        assert "Traceback" not in str(body)
