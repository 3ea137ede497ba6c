"""The serving model's feature matrix, computed fast and equal to the fitted union's.

Character n-grams were the largest part of the model's time (issue 7): scikit-learn builds
every n-gram of every word in Python for every sentence, although most words recur across
sentences and texts. `CachedFeatures` keeps the vocabulary indices of each word's character
n-grams in a bounded cache and builds the count matrix exactly as `CountVectorizer` does
(same integer counts, same sorted CSR layout), then applies the fitted TF-IDF weights, so
its output equals the union's `transform(rows)` bit for bit (tests/models/test_vectorise.py,
and `verify` at every training). It reads a models/serving.ServingModel and imports no
scikit-learn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from scipy import sparse

from models.features import normalise
from models.serving import WHITE_SPACES, ServingModel, TextBlock, char_wb_ngrams

logger = logging.getLogger(__name__)

DEFAULT_CACHE_WORDS = 200_000
PRODUCT_MIN_WORDS = 1_500  # about six vacancies: below, summing word by word is faster


class ServingMismatchError(RuntimeError):
    """The serving model does not reproduce the pipelines' numbers."""


class CachedFeatures:
    """The [words | chars | rules] matrix of sentence rows, as the detector's union makes it."""

    def __init__(self, model: ServingModel, cache_words: int = DEFAULT_CACHE_WORDS) -> None:
        self.model = model
        self._words = model.words
        self._chars = model.chars
        assert self._words.token_pattern is not None
        self._word_tokens = re.compile(self._words.token_pattern).findall
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._cache_words = cache_words

    def transform(self, rows: list[dict[str, str]]) -> Any:
        """The union's feature matrix for sentence rows {"text", "rules"}."""
        # The union's select step normalises; each vectorizer then lowercases again.
        texts = [normalise(row["text"]).lower() for row in rows]
        words = _tfidf(
            self._words, _count_matrix(map(self._word_ngrams, texts), self._words.vocabulary)
        )
        chars = _tfidf(self._chars, self._char_counts(texts))
        rules = _count_matrix([row["rules"].split() for row in rows], self.model.rules, np.int64)
        rules.data.fill(1)  # binary
        return sparse.hstack([words, chars, rules]).tocsr()

    def _word_ngrams(self, text: str) -> Iterator[str]:
        """The word n-grams of a text in scikit-learn's `_word_ngrams` order (the words, then
        the pairs, ...), made one at a time for `_count_matrix` instead of listed first."""
        tokens = self._word_tokens(text)
        min_n, max_n = self._words.ngram_range
        if min_n == 1:
            yield from tokens
        join = " ".join
        for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
            for i in range(len(tokens) - n + 1):
                yield join(tokens[i : i + n])

    def _char_counts(self, texts: list[str]) -> Any:
        """The character n-gram count matrix, equal to CountVectorizer.transform's.

        Each distinct word's n-gram counts come from the cache. For a batch of many texts
        the matrix is a sparse product: (how often each text holds each distinct word) times
        (each word's n-gram counts); the counts are small whole numbers, exact in floating
        point, so it equals summing word by word. For one or a few texts building the two
        matrices costs more than it saves (0.47 against 0.63 ms a vacancy alone, 0.43
        against 0.34 in batches of 32), and the words' counts are summed directly.
        """
        columns: dict[str, int] = {}
        row_of: list[int] = []
        column_of: list[int] = []
        for row, text in enumerate(texts):
            for word in WHITE_SPACES.sub(" ", text).split():
                column = columns.get(word)
                if column is None:
                    column = columns[word] = len(columns)
                row_of.append(row)
                column_of.append(column)
        shape = (len(texts), len(self._chars.vocabulary))
        if not columns:
            return sparse.csr_matrix(shape, dtype=np.float64)
        entries = [self._word_counts(word) for word in columns]
        if len(row_of) >= PRODUCT_MIN_WORDS:
            lengths = np.fromiter((len(e[0]) for e in entries), dtype=np.int64, count=len(entries))
            indptr = np.zeros(len(entries) + 1, dtype=np.int64)
            np.cumsum(lengths, out=indptr[1:])
            grams = sparse.csr_matrix(
                (
                    np.concatenate([e[1] for e in entries]).astype(np.float64),
                    np.concatenate([e[0] for e in entries]),
                    indptr,
                ),
                shape=(len(columns), shape[1]),
            )
            words = sparse.csr_matrix(
                (np.ones(len(row_of)), (row_of, column_of)), shape=(len(texts), len(columns))
            )
            matrix = sparse.csr_matrix(words @ grams)
            matrix.sort_indices()  # as CountVectorizer leaves them
        else:
            used = [entries[column] for column in column_of]
            rows = np.repeat(
                np.asarray(row_of, dtype=np.int32),
                np.fromiter((len(e[0]) for e in used), dtype=np.int64, count=len(used)),
            )
            coo = sparse.coo_matrix(
                (
                    np.concatenate([e[1] for e in used]),
                    (rows, np.concatenate([e[0] for e in used])),
                ),
                shape=shape,
            )
            matrix = sparse.csr_matrix(coo.tocsr(), dtype=np.float64)
            matrix.sum_duplicates()  # also sorts the indices, as CountVectorizer does
        matrix.indices = matrix.indices.astype(np.int32, copy=False)
        matrix.indptr = matrix.indptr.astype(np.int32, copy=False)
        return matrix

    def _word_counts(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary indexes and counts of the character n-grams of one word, cached."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found: dict[int, int] = {}
        vocabulary = self._chars.vocabulary
        for ngram in char_wb_ngrams(word, self._chars.ngram_range):
            index = vocabulary.get(ngram)
            if index is not None:
                found[index] = found.get(index, 0) + 1
        entry = (
            np.fromiter(found.keys(), dtype=np.int32, count=len(found)),
            np.fromiter(found.values(), dtype=np.intc, count=len(found)),
        )
        if len(self._cache) >= self._cache_words:
            self._cache.clear()  # bounded memory over a whole market; refilling is cheap
        self._cache[word] = entry
        return entry


def _count_matrix(
    analysed: Iterable[Iterable[str]], vocabulary: dict[str, int], dtype: Any = np.float64
) -> Any:
    """CountVectorizer.transform for already analysed documents (its _count_vocab loop)."""
    j_indices: list[int] = []
    values: list[int] = []
    indptr = [0]
    for features in analysed:
        found: dict[int, int] = {}
        for feature in features:
            index = vocabulary.get(feature)
            if index is not None:
                found[index] = found.get(index, 0) + 1
        j_indices.extend(found.keys())
        values.extend(found.values())
        indptr.append(len(j_indices))
    matrix = sparse.csr_matrix(
        (
            np.asarray(values, dtype=np.intc),
            np.asarray(j_indices, dtype=np.int32),
            np.asarray(indptr, dtype=np.int32),
        ),
        shape=(len(indptr) - 1, len(vocabulary)),
        dtype=dtype,
    )
    matrix.sort_indices()
    return matrix


def _tfidf(block: TextBlock, counts: Any) -> Any:
    """TfidfTransformer.transform on a fresh count matrix, in place.

    The row norms are summed in storage order, one row at a time, as scikit-learn's
    inplace_csr_row_normalize_l2 does: SciPy's sparse product with a vector of ones adds
    them in that order (the squares times 1.0 are exact), which keeps the result the same
    bit for bit.
    """
    if block.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    counts.data *= block.idf[counts.indices]
    if block.l2:
        squares = sparse.csr_matrix(
            (counts.data * counts.data, counts.indices, counts.indptr), shape=counts.shape
        )
        norms = np.sqrt(squares @ np.ones(counts.shape[1]))
        norms[norms == 0.0] = 1.0
        counts.data /= np.repeat(norms, np.diff(counts.indptr))
    return counts


def verify(model: ServingModel, pipelines: dict[str, Any], rows: list[dict[str, str]]) -> None:
    """Raise ServingMismatchError unless `model` gives the pipelines' numbers bit for bit.

    `stagecheck train` runs this on the dev sentences before it saves an artefact: the
    analyzer serves the model without scikit-learn, so any difference must stop training.
    """
    features = CachedFeatures(model)
    union = pipelines["detector"].named_steps["features"]
    ours, theirs = features.transform(rows), union.transform(rows)
    same = (
        type(ours) is type(theirs)
        and ours.shape == theirs.shape
        and np.array_equal(ours.indptr, theirs.indptr)
        and np.array_equal(ours.indices, theirs.indices)
        and np.array_equal(ours.data, theirs.data)
    )
    if not same:
        raise ServingMismatchError("the serving features differ from the fitted union's")
    text = ours[:, : model.text_columns].tocsr()
    checks = {
        "detector": (model.detector.positive_proba(ours), "detector", theirs),
        "paraphraser": (model.paraphraser.positive_proba(text), "paraphraser", text),
        "severity": (model.severity.positive_proba(text), "severity", text),
    }
    for name, (got, pipeline, matrix) in checks.items():
        expected = pipelines[pipeline].named_steps["clf"].predict_proba(matrix)[:, 1]
        if not np.array_equal(got, expected):
            raise ServingMismatchError(f"the serving {name} differs from the pipeline's")
    grounds = pipelines["grounder"].named_steps["clf"].predict(text)
    if model.grounder.predict(text) != list(grounds):
        raise ServingMismatchError("the serving grounder differs from the pipeline's")
