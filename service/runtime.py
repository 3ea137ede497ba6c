"""Builds the analyzer a process uses: lexicon and, once trained, the model."""

from __future__ import annotations

import logging
from functools import lru_cache

from nlp.analyzer import DEFAULT_MAX_CHARS, Analyzer
from nlp.lexicon import default_lexicon

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def load_analyzer(rules_only: bool = False, max_chars: int = DEFAULT_MAX_CHARS) -> Analyzer:
    """The process's analyzer, built once; `rules_only` leaves the model out."""
    lexicon = default_lexicon()
    analyzer = Analyzer(lexicon, scorer=None, max_chars=max_chars)
    logger.info(
        "analyzer ready: model_version=%s rules_only=%s", analyzer.model_version, rules_only
    )
    return analyzer
