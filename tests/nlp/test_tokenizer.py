"""Our tokenizer (nlp/components.py) gives exactly the tokens of spaCy's blank pipelines.

It leaves out spaCy's whitespace-only special cases, which stopped spaCy's tokenizer from
caching words after the first line break (spaCy issue #13950; issue 7). Every recognizer
and the model work on these tokens, so any difference would change findings.
"""

from __future__ import annotations

import itertools
import json
from functools import cache
from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language

from nlp.pipeline import get_pipeline

ROOT = Path(__file__).resolve().parents[2]

WHITESPACE = [" ", "  ", "\n", "\n\n", "\t", "\xa0", " \n ", "\u2003", "\r\n", " \xa0 "]
PIECES = [
    "Wij zoeken",
    "een stagiair (m/v)",
    "max. 21 jaar",
    "t.a.v. dhr. De Vries",
    "o.a.",
    "'s avonds",
    "B.V.",
    "can't",
    "native speakers only",
    "e.g.",
    "18+",
    "—",
    ":)",
    "www.voorbeeld.nl/vacatures",
    "info@voorbeeld.nl",
    ".",
    ",",
    "(",
    ")",
]


@cache
def spacy_blank(lang: str) -> Language:
    return spacy.blank(lang)


def tokens(nlp: Language, text: str) -> list[tuple[str, str]]:
    return [(token.text, token.whitespace_) for token in nlp.make_doc(text)]


def corpus_texts(limit: int) -> list[str]:
    texts = []
    for path in sorted((ROOT / "training_data").glob("*.jsonl"))[:6]:
        with path.open(encoding="utf-8") as stream:
            texts += [json.loads(line)["text"] for line in itertools.islice(stream, limit)]
    return texts


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_corpus_texts_tokenise_as_spacy_does_with_any_whitespace(lang: str) -> None:
    ours = get_pipeline(lang)
    for number, text in enumerate(corpus_texts(60)):
        # Every fourth space becomes another kind of whitespace.
        words = text.split(" ")
        varied = "".join(
            word + (WHITESPACE[(number + i) % len(WHITESPACE)] if i % 4 == 3 else " ")
            for i, word in enumerate(words)
        )
        for variant in (text, varied):
            assert tokens(ours, variant) == tokens(spacy_blank(lang), variant)


@settings(max_examples=300, deadline=None)
@given(
    lang=st.sampled_from(["nl", "en"]),
    parts=st.lists(st.sampled_from(PIECES + WHITESPACE), min_size=1, max_size=30),
)
def test_any_mix_of_words_and_whitespace_tokenises_as_spacy_does(
    lang: str, parts: list[str]
) -> None:
    text = "".join(parts)
    ours = get_pipeline(lang)
    # Twice: the second time comes from the tokenizer's cache.
    assert tokens(ours, text) == tokens(spacy_blank(lang), text)
    assert tokens(ours, text) == tokens(spacy_blank(lang), text)


def test_only_whitespace_special_cases_are_left_out() -> None:
    for lang in ("nl", "en"):
        ours, theirs = get_pipeline(lang).tokenizer.rules, spacy_blank(lang).tokenizer.rules
        left_out = set(theirs) - set(ours)
        assert left_out and all(not text.strip() for text in left_out)
        assert {text: ours[text] for text in ours} == {text: theirs[text] for text in ours}
