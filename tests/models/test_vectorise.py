"""The cached feature union gives the very numbers of the fitted scikit-learn union."""

from __future__ import annotations

import numpy as np
import pytest

from models.features import sentence_units
from models.scorer import ModelScorer
from models.vectorise import CachedFeatures
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


def test_identical_to_the_union(analyzer: Analyzer, scorer: ModelScorer) -> None:
    union = scorer.artifact.detector.named_steps["features"]
    cached = CachedFeatures(union, cache_words=5)  # a tiny cache is cleared while in use
    rows = []
    for text in TEXTS:
        prepared = analyzer.prepare(text)
        units = sentence_units(prepared, analyzer.candidates(prepared))
        rows.append([{"text": u.text, "rules": u.rules} for u in units])
    rows.append([row for batch in rows for row in batch])  # all sentences as one batch
    for batch in [*rows, *rows]:  # twice: from the cache the second time
        expected, got = union.transform(batch), cached.transform(batch)
        assert type(got) is type(expected)
        assert got.shape == expected.shape
        assert np.array_equal(got.indptr, expected.indptr)
        assert np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)  # bit for bit, not approximately


def test_text_model_reuses_the_detector_columns(scorer: ModelScorer) -> None:
    features = scorer._features
    assert features is not None
    assert features.same_text_features(scorer.artifact.paraphraser.named_steps["features"])
    rows = [{"text": text, "rules": "KIND=vacancy LANG=nl RULE=none"} for text in TEXTS]
    matrix = features.transform(rows)
    shared = scorer._paraphraser_clf.predict_proba(matrix[:, : features.text_columns])[:, 1]
    assert np.array_equal(shared, scorer.artifact.paraphraser.predict_proba(rows)[:, 1])


def test_direct_probabilities_equal_predict_proba(analyzer: Analyzer, scorer: ModelScorer) -> None:
    """The scorer's sparse products give predict_proba's numbers bit for bit."""
    from models.scorer import _positive_proba

    features = scorer._features
    assert features is not None
    assert scorer._detector_weights is not None and scorer._text_weights is not None
    rows = []
    for text in TEXTS * 3:
        prepared = analyzer.prepare(text)
        units = sentence_units(prepared, analyzer.candidates(prepared))
        rows += [{"text": u.text, "rules": u.rules} for u in units]
    matrix = features.transform(rows)
    detector = scorer.artifact.detector.named_steps["clf"]
    assert np.array_equal(
        _positive_proba(matrix, *scorer._detector_weights), detector.predict_proba(matrix)[:, 1]
    )
    some = [0, 2, 3, len(rows) - 1]
    text_columns = matrix[some][:, : features.text_columns]
    text_only = scorer._paraphraser_clf.predict_proba(text_columns)[:, 1]
    assert np.array_equal(_positive_proba(matrix[some], *scorer._text_weights), text_only)
