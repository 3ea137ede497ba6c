"""The spaCy pipelines: blank Dutch and English with lemmas and sentences, built once."""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language

import nlp.components  # noqa: F401  (registers the factories)

LANGUAGES = ("nl", "en")


@cache
def get_pipeline(lang: str) -> Language:
    """The pipeline for `lang`: blank tokenizer, sentences (also at line breaks), lemmas.

    No pretrained pipeline is needed: everything comes from spaCy and spacy-lookups-data.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; supported: {LANGUAGES}")
    pipeline = spacy.blank(lang)
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("stagecheck_line_breaks")
    pipeline.add_pipe("stagecheck_lemmatizer")
    pipeline.max_length = 3_000_000
    return pipeline
