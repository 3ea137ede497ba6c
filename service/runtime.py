"""Builds the analyzer a process uses: lexicon and the trained model."""

from __future__ import annotations

import logging
from functools import lru_cache

from nlp.analyzer import DEFAULT_MAX_CHARS, Analyzer
from nlp.lexicon import default_lexicon
from service.startup import started

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def load_analyzer(rules_only: bool = False, max_chars: int = DEFAULT_MAX_CHARS) -> Analyzer:
    """The process's analyzer, built once.

    The model is required: a missing, corrupt or incompatible artefact raises a
    ModelError that names the file. `rules_only` is for evaluation and lexicon work.
    """
    lexicon = default_lexicon()
    scorer = None
    if not rules_only:
        from models.artifact import load_artifact, model_path
        from models.scorer import ModelScorer

        scorer = ModelScorer(load_artifact(model_path(), lexicon.digest))
    analyzer = Analyzer(lexicon, scorer=scorer, max_chars=max_chars)
    # Lexicons, pipelines and model are some 220,000 long-lived objects: every full
    # collection walked them all (about 145 ms, in the API's p95 and p99), although none
    # of them ever becomes garbage. Frozen, the collector skips them (issue 7).
    started()
    logger.info(
        "analyzer ready: model_version=%s rules_only=%s", analyzer.model_version, rules_only
    )
    return analyzer
