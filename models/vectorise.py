"""The serving model's feature matrix, computed fast and equal to the fitted union's.

Character n-grams were the largest part of the model's time (issue 7): scikit-learn builds
every n-gram of every word in Python for every sentence, although most words recur across
sentences and texts. `CachedFeatures` keeps the vocabulary indices of each word's character
n-grams in a bounded cache; word n-grams are found as integer keys (`WordGrams`), not as
strings. It builds the counts exactly as `CountVectorizer` does (same integer counts, same
sorted CSR layout) and applies the fitted TF-IDF weights, block by block as plain arrays,
then makes one SciPy matrix. Its output equals the union's `transform(rows)` bit for bit
(tests/models/test_vectorise.py, and `verify` at every training). It reads a
models/serving.ServingModel and imports no scikit-learn.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from typing import Any

import numpy as np
from scipy import sparse

from models.features import normalise
from models.serving import (
    ServingModel,
    TextBlock,
    UnsupportedModelError,
    char_wb_ngrams,
)

logger = logging.getLogger(__name__)

DEFAULT_CACHE_WORDS = 200_000
PRODUCT_MIN_WORDS = 1_500  # about six vacancies: below, summing word by word is faster
STACK_WITH_SCIPY_VALUES = 20_000  # about four vacancies' feature values: see _hstack


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
        self._word_grams = WordGrams(self._words.vocabulary, self._words.ngram_range)
        self._rule_grams = WordGrams(model.rules, (1, 1))
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._cache_words = cache_words

    def transform(self, rows: list[dict[str, str]]) -> Any:
        """The union's feature matrix for sentence rows {"text", "rules"}."""
        # The union's select step normalises; each vectorizer then lowercases again.
        texts = [normalise(row["text"]).lower() for row in rows]
        words = _tfidf(self._words, self._word_grams.counts(list(map(self._word_tokens, texts))))
        chars = _tfidf(self._chars, self._char_counts(texts))
        rules = self._rule_grams.counts([row["rules"].split() for row in rows])
        rules.data.fill(1.0)  # binary
        return _hstack([words, chars, rules])

    def _char_counts(self, texts: list[str]) -> Counts:
        """The character n-gram counts, equal to CountVectorizer.transform's.

        Each distinct word's n-gram counts come from the cache. For a batch of many texts
        the matrix is a sparse product: (how often each text holds each distinct word) times
        (each word's n-gram counts); the counts are small whole numbers, exact in floating
        point, so it equals summing word by word. For one or a few texts building the two
        matrices costs more than it saves (0.47 against 0.63 ms a vacancy alone, 0.43
        against 0.34 in batches of 32), and the words' counts are summed directly.
        """
        # str.split() splits on every run of white space, as scikit-learn's does after it
        # has folded each run to one space.
        words_of = [text.split() for text in texts]
        flat = list(chain.from_iterable(words_of))
        distinct = list(dict.fromkeys(flat))  # each word once, in order of first use
        shape = (len(texts), len(self._chars.vocabulary))
        if not distinct:
            return Counts.empty(*shape)
        columns = {word: column for column, word in enumerate(distinct)}
        column_of = np.fromiter(map(columns.__getitem__, flat), dtype=np.int32, count=len(flat))
        words_per_text = np.fromiter(map(len, words_of), dtype=np.int64, count=len(words_of))
        row_of = np.repeat(np.arange(len(texts), dtype=np.int32), words_per_text)
        entries = [self._word_counts(word) for word in distinct]
        if len(row_of) >= PRODUCT_MIN_WORDS:
            grams = sparse.csr_matrix(
                (
                    np.concatenate([e[1] for e in entries]).astype(np.float64),
                    np.concatenate([e[0] for e in entries]),
                    _indptr(np.fromiter((len(e[0]) for e in entries), np.int64, len(entries))),
                ),
                shape=(len(columns), shape[1]),
            )
            # Each text's row of word occurrences; a word used twice is summed by the product.
            words = sparse.csr_matrix(
                (np.ones(len(row_of)), column_of, _indptr(words_per_text)),
                shape=(len(texts), len(columns)),
            )
            # The product leaves each row's columns unsorted; converting to columns and back
            # sorts them as CountVectorizer leaves them, in half the time of sort_indices.
            product = sparse.csr_matrix(words @ grams).tocsc().tocsr()
            return Counts(product.data, product.indices.astype(np.int32), product.indptr, shape[1])
        used = [entries[column] for column in column_of.tolist()]
        return _summed(
            np.repeat(
                row_of,
                np.fromiter((len(e[0]) for e in used), dtype=np.int64, count=len(used)),
            ),
            np.concatenate([e[0] for e in used]),
            np.concatenate([e[1] for e in used]),
            shape,
        )

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


class WordGrams:
    """N-gram counts of tokenised texts, equal to CountVectorizer's, computed in numpy: the
    word n-grams of sentences, and (as unigrams) the tokens of the rule features.

    Looking every n-gram of every sentence up in the vocabulary as a string was the largest
    part of the model's time (issue 7). Here each token is looked up once, for its id among
    the words the vocabulary's n-grams are made of (1 to W; 0 for any other word, which no
    n-gram of the vocabulary holds). An n-gram of ids is then one integer, its ids as digits
    in base W + 1; digits are never 0, so n-grams of different lengths never share a key. The
    keys of a whole batch are found among the vocabulary's sorted keys with one searchsorted
    per n.
    """

    def __init__(self, vocabulary: dict[str, int], ngram_range: tuple[int, int]) -> None:
        self._min_n, self._max_n = ngram_range
        self._columns_total = len(vocabulary)
        grams = [gram.split(" ") for gram in vocabulary]
        ids: dict[str, int] = {}
        for gram in grams:
            for word in gram:
                ids.setdefault(word, len(ids) + 1)
        self._ids = ids
        self._base = len(ids) + 1
        if self._base**self._max_n >= 2**63:
            raise UnsupportedModelError(f"word {self._max_n}-grams of {len(ids)} words")
        keys = np.fromiter(
            (self._key([ids[word] for word in gram]) for gram in grams),
            dtype=np.int64,
            count=len(grams),
        )
        order = np.argsort(keys)
        self._keys = keys[order]
        self._columns = np.fromiter(vocabulary.values(), dtype=np.int32, count=len(grams))[order]

    def _key(self, ids: list[int]) -> int:
        key = 0
        for id_ in ids:
            key = key * self._base + id_
        return key

    def counts(self, tokenised: list[list[str]]) -> Counts:
        """The counts of texts given as their token lists, one row per text."""
        shape = (len(tokenised), self._columns_total)
        flat = list(chain.from_iterable(tokenised))
        ids = np.fromiter(map(self._ids.get, flat, repeat(0)), dtype=np.int64, count=len(flat))
        lengths = np.fromiter(map(len, tokenised), dtype=np.int64, count=len(tokenised))
        rows = np.repeat(np.arange(len(tokenised), dtype=np.int32), lengths)
        found_rows: list[np.ndarray] = []
        found_columns: list[np.ndarray] = []
        for n in range(self._min_n, self._max_n + 1):
            m = len(ids) - n + 1  # n-grams starting at tokens 0 .. m-1
            if m <= 0 or not len(self._keys):
                break
            keys = ids[:m].copy()
            valid = keys > 0
            for k in range(1, n):
                following = ids[k : k + m]
                keys = keys * self._base + following
                valid &= following > 0
            if n > 1:
                valid &= rows[:m] == rows[n - 1 : n - 1 + m]  # within one text
            keys = keys[valid]
            at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
            hit = self._keys[at] == keys
            found_rows.append(rows[:m][valid][hit])
            found_columns.append(self._columns[at[hit]])
        if not found_rows:
            return Counts.empty(*shape)
        return _summed(np.concatenate(found_rows), np.concatenate(found_columns), None, shape)


@dataclass
class Counts:
    """A CSR matrix as its three arrays, each row's columns sorted: the blocks of the feature
    matrix are built as arrays and made one SciPy matrix at the end (`_hstack`), since each
    SciPy matrix costs tens of microseconds of checks, most of the time for one text."""

    data: np.ndarray  # float64
    indices: np.ndarray  # int32 columns
    indptr: np.ndarray  # row starts, len(rows) + 1
    columns: int

    @classmethod
    def empty(cls, rows: int, columns: int) -> Counts:
        no_values = np.zeros(0, dtype=np.int32)
        return cls(np.zeros(0), no_values, np.zeros(rows + 1, dtype=np.int64), columns)

    @cached_property
    def rows(self) -> np.ndarray:
        """The row of every stored value."""
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))


def _indptr(lengths: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
    """A CSR matrix's row starts, from the number of values in each row."""
    indptr = np.zeros(len(lengths) + 1, dtype=dtype)
    np.cumsum(lengths, out=indptr[1:])
    return indptr


def _summed(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray | None, shape: tuple[int, int]
) -> Counts:
    """`values` (or ones) summed at (rows, columns), as CountVectorizer leaves its counts:
    float64 whole numbers, each row's columns sorted."""
    keys = rows.astype(np.int64) * shape[1] + columns
    unique, inverse = np.unique(keys, return_inverse=True)
    weights = None if values is None else values.astype(np.float64)
    data = np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.float64)
    indptr = np.searchsorted(unique // shape[1], np.arange(shape[0] + 1))
    return Counts(data, (unique % shape[1]).astype(np.int32), indptr, shape[1])


def _tfidf(block: TextBlock, counts: Counts) -> Counts:
    """TfidfTransformer.transform on fresh counts, in place.

    The row norms are summed in storage order, one value at a time, as scikit-learn's
    inplace_csr_row_normalize_l2 does; np.bincount with weights adds them in that order,
    which keeps the result the same bit for bit.
    """
    data = counts.data
    if block.sublinear_tf:
        np.log(data, data)
        data += 1.0
    data *= block.idf[counts.indices]
    if block.l2:
        rows = counts.rows
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(counts.indptr) - 1))
        norms[norms == 0.0] = 1.0
        data /= norms[rows]
    return counts


def _hstack(blocks: list[Counts]) -> Any:
    """The CSR matrix of the blocks side by side, as sparse.hstack(...).tocsr() makes it:
    each row holds the first block's values, then the second's, each block's columns after
    the previous block's.

    Placing the values with numpy saves SciPy's per-matrix checks (0.27 ms of a 1.2 ms
    transform for one vacancy), but scattering is slower than SciPy's own stacking for a
    whole batch (40 against 20 us a vacancy in batches of 32), which then does it.
    """
    if sum(len(block.data) for block in blocks) > STACK_WITH_SCIPY_VALUES:
        return sparse.hstack(
            [
                sparse.csr_matrix(
                    (block.data, block.indices, block.indptr),
                    shape=(len(block.indptr) - 1, block.columns),
                )
                for block in blocks
            ],
            format="csr",
        )
    lengths = [np.diff(block.indptr) for block in blocks]
    indptr = _indptr(np.sum(lengths, axis=0), np.int32)
    data = np.empty(indptr[-1], dtype=np.float64)
    indices = np.empty(indptr[-1], dtype=np.int32)
    filled = indptr[:-1].copy()  # where each row's next block starts
    offset = 0
    for block, length in zip(blocks, lengths, strict=True):
        rows = block.rows
        # each value's place: its row's next free slot plus its place within the block's row
        places = filled[rows] + (np.arange(len(block.data)) - block.indptr[rows])
        data[places] = block.data
        indices[places] = block.indices + offset
        filled += length
        offset += block.columns
    return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, offset))


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
