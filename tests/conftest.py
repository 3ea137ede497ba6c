"""Shared fixtures: the analyzer is built once per test session."""

from __future__ import annotations

import pytest

from nlp.analyzer import Analyzer
from nlp.lexicon import default_lexicon


@pytest.fixture(scope="session")
def rules() -> Analyzer:
    """The rule-based analyzer (lexicons and context, no model)."""
    return Analyzer(default_lexicon())


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The full analyzer a user gets: lexicons, context and the trained model."""
    from service.runtime import load_analyzer

    return load_analyzer()
