"""The anchored matcher finds exactly what the plain spaCy Matcher finds, in the same order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from spacy.matcher import Matcher
from spacy.tokens import Doc

from nlp.lexicon import default_lexicon
from nlp.pipeline import get_pipeline
from nlp.recognizers.anchored import AnchoredMatcher, pattern_anchor, pattern_reach

CORPUS = Path(__file__).resolve().parents[2] / "training_data"


def _patterns(lang: str) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        (entry.id, pattern)
        for _, entry in default_lexicon().entries(lang)
        for pattern in entry.patterns or []
    ]


def _texts(lang: str) -> list[str]:
    """Every entry's own examples, all of them joined into long texts, and corpus vacancies."""
    examples = [
        sentence
        for _, entry in default_lexicon().entries(lang)
        for sentence in [*entry.examples.flag, *entry.examples.pass_]
    ]
    joined = [" ".join(examples[i : i + 40]) for i in range(0, len(examples), 40)]
    joined += ["\n".join(examples[i : i + 25]) for i in range(7, len(examples), 25)]
    vacancies = []
    with (CORPUS / f"vacancies_{lang}.jsonl").open(encoding="utf-8") as stream:
        for number, line in enumerate(stream):
            if number % 5 == 0:
                vacancies.append(json.loads(line)["text"])
    return examples + joined + vacancies


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_same_matches_as_the_plain_matcher(lang: str) -> None:
    nlp = get_pipeline(lang)
    anchored = AnchoredMatcher(nlp.vocab)
    plain: list[Matcher] = []
    for key, pattern in _patterns(lang):
        if anchored.add(key, pattern):
            matcher = Matcher(nlp.vocab)
            matcher.add(key, [pattern])
            plain.append(matcher)
    assert len(anchored) == len(plain) > 100
    docs: list[Doc] = list(nlp.pipe(_texts(lang)))
    total = 0
    for doc in docs:
        expected = [match for matcher in plain for match in matcher(doc)]
        assert anchored(doc) == expected, doc.text[:80]
        total += len(expected)
    assert total > 500  # the comparison covers many real matches, not only empty lists


def test_anchor_and_reach() -> None:
    pattern = [
        {"LOWER": {"IN": ["geen", "niet"]}},
        {"IS_PUNCT": False, "OP": "{0,3}"},
        {"LOWER": "hoofddoek"},
        {"LOWER": "toegestaan", "OP": "?"},
    ]
    assert pattern_anchor(pattern) == frozenset({"hoofddoek"})
    assert pattern_reach(pattern) == 6
    assert pattern_reach([{"LOWER": "max"}, {"IS_ALPHA": True, "OP": "*"}]) is None
    assert pattern_anchor([{"IS_ALPHA": True}, {"LOWER": "jong", "OP": "?"}]) is None
