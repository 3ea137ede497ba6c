"""The serving model gives the very numbers of the fitted scikit-learn pipelines, and analysis
runs without importing scikit-learn (issue 7: it cost about a second of every cold start)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from models.features import sentence_units
from models.scorer import ModelScorer
from models.vectorise import (
    PRODUCT_MIN_WORDS,
    STACK_WITH_SCIPY_VALUES,
    CachedFeatures,
    ServingMismatchError,
    verify,
)
from nlp.analyzer import Analyzer

TEXTS = [
    "Wij zoeken een jonge stagiair, max. 21 jaar. Hoofddoekjes zijn niet toegestaan.",
    "Leeftijd, afkomst en geloof spelen bij ons geen rol.\n\nWe bieden 350 euro per maand.",
    "We are looking for a young and dynamic hostess, native Dutch speaker.",
    "Je bent   representatief,\tspreekt Nederlands als moedertaal en hebt geen kinderwens.",
    "Über-cool café: crème brûlée, naïeve façade — İstanbul 2025/26 (m/v/x).",
    "x",
]


@pytest.fixture(scope="module")
def scorer(analyzer: Analyzer) -> ModelScorer:
    assert isinstance(analyzer.scorer, ModelScorer)
    return analyzer.scorer


def _rows(analyzer: Analyzer, texts: list[str]) -> list[list[dict[str, str]]]:
    batches = []
    for text in texts:
        prepared = analyzer.prepare(text)
        units = sentence_units(prepared, analyzer.candidates(prepared))
        batches.append([{"text": u.text, "rules": u.rules} for u in units])
    return batches


def test_identical_to_the_union(analyzer: Analyzer, scorer: ModelScorer) -> None:
    union = scorer.artifact.detector.named_steps["features"]
    cached = CachedFeatures(scorer.serving, cache_words=5)  # a tiny cache is cleared in use
    rows = _rows(analyzer, TEXTS)
    sizes: list[int] = []
    rows.append([row for batch in rows for row in batch])  # all sentences as one batch
    # A batch of more than PRODUCT_MIN_WORDS words takes the sparse product instead, and
    # one of more than STACK_WITH_SCIPY_VALUES values is stacked by SciPy.
    rows.append(rows[-1] * 40)
    assert sum(len(row["text"].split()) for row in rows[-1]) >= PRODUCT_MIN_WORDS
    for batch in [*rows, *rows]:  # twice: from the cache the second time
        expected, got = union.transform(batch), cached.transform(batch)
        sizes.append(got.nnz)
        assert type(got) is type(expected)
        assert got.shape == expected.shape
        assert np.array_equal(got.indptr, expected.indptr)
        assert np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)  # bit for bit, not approximately
    assert min(sizes) <= STACK_WITH_SCIPY_VALUES < max(sizes)  # both ways of stacking


def test_serving_heads_equal_the_pipelines(analyzer: Analyzer, scorer: ModelScorer) -> None:
    """Probabilities and grounds from the plain arrays equal predict_proba's, bit for bit."""
    rows = [row for batch in _rows(analyzer, TEXTS * 3) for row in batch]
    artifact, serving = scorer.artifact, scorer.serving
    matrix = scorer._features.transform(rows)
    text = matrix[:, : serving.text_columns].tocsr()
    for got, pipeline, features in (
        (serving.detector.positive_proba(matrix), "detector", matrix),
        (scorer._text_head.positive_proba(matrix), "paraphraser", text),
        (serving.severity.positive_proba(text), "severity", text),
    ):
        clf = artifact.pipelines[pipeline].named_steps["clf"]
        assert np.array_equal(got, clf.predict_proba(features)[:, 1]), pipeline
    # The text-only pipeline from raw rows, as training scores them.
    assert np.array_equal(
        scorer._text_head.positive_proba(matrix), artifact.paraphraser.predict_proba(rows)[:, 1]
    )
    assert serving.grounder.predict(text) == list(artifact.grounder.predict(rows))


def test_training_refuses_a_serving_model_that_differs(
    analyzer: Analyzer, scorer: ModelScorer
) -> None:
    rows = [row for batch in _rows(analyzer, TEXTS) for row in batch]
    serving = scorer.serving
    pipelines = dict(scorer.artifact.pipelines)
    verify(serving, pipelines, rows)  # the real one passes
    matrix = CachedFeatures(serving).transform(rows)
    words = len(serving.words.vocabulary)
    present = next(c for c in matrix.indices if words <= c < serving.text_columns) - words
    idf = serving.chars.idf.copy()
    idf[present] *= 1.0 + 1e-12  # one character n-gram of these rows, off by a trillionth
    wrong_idf = dataclasses.replace(serving, chars=dataclasses.replace(serving.chars, idf=idf))
    bias = serving.severity.intercept + 1e-9
    wrong_head = dataclasses.replace(
        serving, severity=dataclasses.replace(serving.severity, intercept=bias)
    )
    for wrong in (wrong_idf, wrong_head):
        with pytest.raises(ServingMismatchError):
            verify(wrong, pipelines, rows)


def test_analysis_imports_no_scikit_learn() -> None:
    code = (
        "import sys\n"
        "from service.runtime import load_analyzer\n"
        "a = load_analyzer()\n"
        "r = a.analyze('Wij zoeken een jonge stagiair, max. 21 jaar.', kind='vacancy')\n"
        "assert r.verdict.value == 'reject', r.verdict\n"
        "a.analyze('We want a young hostess for our front desk.', kind='vacancy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
