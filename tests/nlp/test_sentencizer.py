"""The array sentencizer (nlp/components.py) splits exactly where spaCy's Sentencizer does.

It replaces spaCy's for speed (issue 7); sentences are the model's units, so a different
split would change what the model scores.
"""

from __future__ import annotations

from functools import cache

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language

import nlp.components  # noqa: F401  (registers the stagecheck components)

PIECES = [
    "Wij zoeken",
    "een stagiair",
    ".",
    "!",
    "?",
    "...",
    "?!",
    ")",
    '"',
    "'",
    ",",
    "max. 21 jaar",
    "Dhr.",
    "\n",
    " ",
    "。",
    "-",
    "Native speakers only",
    "(m/v)",
]


@cache
def _pipeline(pipe: str) -> Language:
    nlp = spacy.blank("nl")
    nlp.add_pipe(pipe)
    return nlp


def _starts(pipe: str, text: str) -> list[bool]:
    return [bool(token.is_sent_start) for token in _pipeline(pipe)(text)]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join))
def test_splits_where_spacy_does(text: str) -> None:
    assert _starts("stagecheck_sentencizer", text) == _starts("sentencizer", text)


def test_a_full_stop_starts_the_next_sentence() -> None:
    starts = _starts("stagecheck_sentencizer", 'Je bent 18. "Welkom!" Wij bieden veel.')
    tokens = [t.text for t in spacy.blank("nl")('Je bent 18. "Welkom!" Wij bieden veel.')]
    assert [t for t, s in zip(tokens, starts, strict=True) if s] == ["Je", "Welkom", "Wij"]
