"""The lemma tables kept as arrays of hashes give every word the lemma the plain tables give.

The lemmatizer reads spacy-lookups-data's tables through `HashedLookup` and `HashedWords`
(issue 7: 60 MB and 0.2 s of every start as Python dicts and sets). Every lemma feeds the
lexicon's phrases and patterns, so one different lemma could change a finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.components import (
    HashedLookup,
    HashedWords,
    _hashed,
    _lemma_tables,
    _overrides,
    lemmatizer,
)

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = ("", "e", "en", "s", "t", "te", "de", "ste", "er", "ed", "ing", "es", "'s")


def corpus_words() -> set[str]:
    words: set[str] = set()
    for path in sorted((ROOT / "training_data").glob("*.jsonl")):
        with path.open(encoding="utf-8") as stream:
            for line in stream:
                words.update(
                    word.strip(".,:;!?()\"'").lower() for word in json.loads(line)["text"].split()
                )
    return words


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_hashed_tables_lemmatise_every_word_as_the_plain_tables(lang: str) -> None:
    plain = _lemma_tables(lang)
    hashed = _hashed(plain)
    _, known, per_pos = plain
    words = set(known) | corpus_words()
    for first_forms, _, _ in per_pos.values():
        words |= set(first_forms)
    # Inflected forms: the lookup table is keyed by them, and the suffix rules apply to them.
    words |= {word + suffix for word in sorted(known)[::20] for suffix in SUFFIXES}
    overrides = _overrides(lang)
    from_plain, from_hashed = lemmatizer(plain, overrides), lemmatizer(hashed, overrides)
    differences = [w for w in sorted(words) if from_plain(w) != from_hashed(w)]
    assert differences == []
    # The words were real tests: many came from the lookup table and the rules.
    changed = sum(from_plain(w) != w for w in words)
    assert changed > len(words) // 10


def test_hashed_words_and_lookup_answer_like_a_set_and_a_dict() -> None:
    words = {"vrouw", "jong", "stagiair", "", "ß", "ﬁets"}
    hashed = HashedWords(words)
    assert all(word in hashed for word in words)
    assert "vrouwen" not in hashed and 3 not in hashed
    assert len(hashed) == len(words)

    from spacy.strings import get_string_id

    lookup = HashedLookup({get_string_id("vrouwen"): "vrouw", get_string_id("jonge"): "jong"})
    assert lookup.get(get_string_id("vrouwen")) == "vrouw"
    assert lookup.get(get_string_id("jonge")) == "jong"
    assert lookup.get(get_string_id("stagiairs")) is None
    assert len(lookup) == 2
