"""The spaCy pipelines: blank Dutch and English with lemmas and sentences, built once."""

from __future__ import annotations

import itertools
import threading

import numpy
import spacy
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

import nlp.components  # noqa: F401  (registers the factories)

LANGUAGES = ("nl", "en")


_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "stagecheck.Tokenizer.v1"}}}
_PIPELINES: dict[str, Language] = {}
_BUILDING = threading.Lock()


def get_pipeline(lang: str) -> Language:
    """The pipeline for `lang`: blank tokenizer, sentences (also at line breaks), lemmas.

    No pretrained pipeline is needed: everything comes from spaCy and spacy-lookups-data.
    Built once per process, on first use; threads that ask meanwhile wait for it.
    """
    pipeline = _PIPELINES.get(lang)
    if pipeline is None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}; supported: {LANGUAGES}")
        with _BUILDING:
            if lang not in _PIPELINES:
                _PIPELINES[lang] = _build(lang)
            pipeline = _PIPELINES[lang]
    return pipeline


def _build(lang: str) -> Language:
    pipeline = spacy.blank(lang, config=_CONFIG)
    pipeline.add_pipe("stagecheck_sentencizer")
    pipeline.add_pipe("stagecheck_line_breaks")
    pipeline.add_pipe("stagecheck_lemmatizer")
    pipeline.max_length = 3_000_000
    return pipeline


_TEXT_KEY = "stagecheck_text"


def process(lang: str, text: str) -> Doc:
    """`get_pipeline(lang)(text)`, with the text kept on the Doc for `doc_text`."""
    doc = get_pipeline(lang)(text)
    doc.user_data[_TEXT_KEY] = text
    return doc


def doc_text(doc: Doc) -> str:
    """The text of `doc`: the string it was made from when `process` made it.

    spaCy's tokenisation keeps every character, so this is `doc.text`, which rebuilds the
    string from the tokens on every call (about 80 µs for a vacancy of 250 words).
    """
    text = doc.user_data.get(_TEXT_KEY)
    return text if isinstance(text, str) else doc.text


def sentence_spans(doc: Doc) -> list[tuple[int, int]]:
    """The (start_char, end_char) of each sentence of `doc`, as `doc.sents` gives them.

    Read from one array of sentence starts, offsets and lengths: `doc.sents` builds every
    Span through Token objects, and was called twice per text (issue 7).
    """
    if not len(doc):
        return []
    starts, offsets, lengths = doc.to_array([SENT_START, IDX, LENGTH]).astype(numpy.int64).T
    bounds = [0, *(numpy.flatnonzero(starts[1:] == 1) + 1).tolist(), len(doc)]
    offsets_list, lengths_list = offsets.tolist(), lengths.tolist()
    return [
        (offsets_list[first], offsets_list[end - 1] + lengths_list[end - 1])
        for first, end in itertools.pairwise(bounds)
    ]
