"""Model findings are narrowed to the words that carry the model's score."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from models.scorer import _token_contributions


def _row(values: dict[int, float], width: int) -> sparse.csr_matrix:
    columns = sorted(values)
    return sparse.csr_matrix(
        ([values[c] for c in columns], ([0] * len(columns), columns)), shape=(1, width)
    )


def test_each_word_gets_the_share_of_the_features_it_comes_from() -> None:
    words = ["alleen", "voor", "jonge", "meiden"]
    word_grams = ["jonge", "jonge meiden", "voor"]
    char_grams = ["eid", "onge "]
    coef = np.array([2.0, 4.0, -1.0, 3.0, 1.0])
    row = _row({0: 0.5, 1: 0.5, 2: 1.0, 3: 1.0, 4: 1.0}, 5)
    weights = _token_contributions(words, row, coef, word_grams, char_grams)
    # "jonge": its unigram (2*0.5), half the bigram (4*0.5/2) and the char gram "onge " (1).
    # "meiden": half the bigram and "eid" (3). "voor": its unigram (-1). "alleen": nothing.
    assert weights == [0.0, -1.0, 1.0 + 1.0 + 1.0, 1.0 + 3.0]


def test_a_gram_found_in_several_words_is_shared_between_them() -> None:
    words = ["hoofddoek", "hoofd", "doek"]
    weights = _token_contributions(words, _row({0: 1.0}, 1), np.array([3.0]), [], ["ofd"])
    assert weights == [1.5, 1.5, 0.0]


def test_features_of_words_not_in_the_sentence_change_nothing() -> None:
    weights = _token_contributions(
        ["iedereen", "welkom"], _row({0: 1.0}, 1), np.array([5.0]), ["jong"], []
    )
    assert weights == [0.0, 0.0]
