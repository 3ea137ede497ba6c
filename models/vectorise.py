"""The fitted feature union, computed faster with the same numbers.

Character n-grams were the largest part of the model's time (issue 7): scikit-learn builds
every n-gram of every word in Python for every sentence, although most words recur across
sentences and texts. `CachedFeatures` keeps the vocabulary indices of each word's character
n-grams in a bounded cache and builds the count matrix exactly as `CountVectorizer` does
(same integer counts, same sorted CSR layout), then applies the fitted TF-IDF weights, so
its output equals `union.transform(rows)` bit for bit (tests/models/test_vectorise.py).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from models.features import normalise

logger = logging.getLogger(__name__)

DEFAULT_CACHE_WORDS = 200_000
_LAYOUT = ["words", "chars", "rules"]


class UnsupportedFeaturesError(ValueError):
    """The union is not laid out as models/pipeline.py builds it; use union.transform."""


class CachedFeatures:
    """`union.transform(rows)` for the union of models/pipeline.build_features, faster."""

    def __init__(self, union: FeatureUnion, cache_words: int = DEFAULT_CACHE_WORDS) -> None:
        names = [name for name, _ in union.transformer_list]
        if names != _LAYOUT:
            raise UnsupportedFeaturesError(f"feature union {names}, expected {_LAYOUT}")
        self._words: TfidfVectorizer = union.transformer_list[0][1].named_steps["tfidf"]
        self._chars: TfidfVectorizer = union.transformer_list[1][1].named_steps["tfidf"]
        rules = union.transformer_list[2][1]
        self._rule_counter: CountVectorizer = rules.named_steps["count"]
        if [name for name, _ in rules.steps] != ["select", "count"]:
            raise UnsupportedFeaturesError("the rule features are not a select+count pipeline")
        self._rule_analyzer = self._rule_counter.build_analyzer()
        if self._words.analyzer != "word" or self._words.binary:
            raise UnsupportedFeaturesError("the word features are not plain word n-grams")
        self._word_analyzer = self._words.build_analyzer()
        chars = self._chars
        if chars.analyzer != "char_wb" or chars.binary or chars.input != "content":
            raise UnsupportedFeaturesError("the character features are not plain char_wb")
        self._char_vocabulary: dict[str, int] = chars.vocabulary_
        self._char_preprocess = chars.build_preprocessor()
        self._char_ngrams = chars._char_wb_ngrams
        self._white_spaces = chars._white_spaces
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._cache_words = cache_words
        # CountVectorizer returns a scipy sparse matrix or array depending on the version;
        # build the same type.
        probe = chars.transform(["probe"])
        self._sparse_type = (
            sparse.csr_matrix if isinstance(probe, sparse.spmatrix) else sparse.csr_array
        )
        self.text_columns = len(self._words.vocabulary_) + len(chars.vocabulary_)
        self.columns = self.text_columns + len(self._rule_counter.vocabulary_)

    def same_text_features(self, text_union: FeatureUnion) -> bool:
        """Whether `text_union` (words, chars) computes exactly our first two blocks.

        True when both vectorizers have the same parameters, vocabulary and IDF weights, as
        when they were fitted on the same rows: its matrix is then ours[:, :text_columns].
        """
        theirs = [step for _, step in text_union.transformer_list]
        if [name for name, _ in text_union.transformer_list] != _LAYOUT[:2]:
            return False
        for ours, other in zip((self._words, self._chars), theirs, strict=True):
            vectorizer = other.named_steps.get("tfidf")
            if not isinstance(vectorizer, TfidfVectorizer):
                return False
            if repr(vectorizer.get_params()) != repr(ours.get_params()):
                return False
            if vectorizer.vocabulary_ != ours.vocabulary_:
                return False
            if not np.array_equal(vectorizer.idf_, ours.idf_):
                return False
        return True

    def transform(self, rows: list[dict[str, str]]) -> Any:
        """The union's feature matrix for sentence rows {"text", "rules"}."""
        texts = [normalise(row["text"]) for row in rows]
        analyse = self._word_analyzer
        words = self._tfidf(
            self._words, _count_matrix([analyse(t) for t in texts], self._words, self._sparse_type)
        )
        chars = self._tfidf(self._chars, self._char_counts(texts))
        analyse_rules = self._rule_analyzer
        rules = _count_matrix(
            [analyse_rules(row["rules"]) for row in rows], self._rule_counter, self._sparse_type
        )
        return sparse.hstack([words, chars, rules]).tocsr()

    @staticmethod
    def _tfidf(vectorizer: TfidfVectorizer, counts: Any) -> Any:
        """TfidfTransformer.transform on a fresh count matrix, without input validation."""
        weights = vectorizer._tfidf
        if weights.sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        counts.data *= weights.idf_[counts.indices]
        if weights.norm == "l2":
            inplace_csr_row_normalize_l2(counts)
        elif weights.norm is not None:
            counts = normalize(counts, norm=weights.norm, copy=False)
        return counts

    def _char_counts(self, texts: list[str]) -> Any:
        """The character n-gram count matrix, equal to CountVectorizer.transform's.

        Each word's (vocabulary index, count) arrays come from the cache; the arrays of all
        words of all texts are summed per row in one sparse conversion.
        """
        columns: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for row, text in enumerate(texts):
            document = self._white_spaces.sub(" ", self._char_preprocess(text))
            for word in document.split():
                indexes, values = self._word_counts(word)
                columns.append(indexes)
                counts.append(values)
                lengths[row] += len(indexes)
        shape = (len(texts), len(self._char_vocabulary))
        if columns:
            data = np.concatenate(counts)
            cols = np.concatenate(columns)
        else:
            data, cols = np.zeros(0, dtype=np.intc), np.zeros(0, dtype=np.int32)
        rows = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
        coo = sparse.coo_matrix((data, (rows, cols)), shape=shape)
        matrix = self._sparse_type(coo.tocsr(), dtype=self._chars.dtype)
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
        vocabulary = self._char_vocabulary
        for ngram in self._char_ngrams(word):
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


def _count_matrix(analysed: list[list[str]], counter: CountVectorizer, sparse_type: Any) -> Any:
    """CountVectorizer.transform for already analysed documents (its _count_vocab loop)."""
    vocabulary: dict[str, int] = counter.vocabulary_
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
    matrix = sparse_type(
        (
            np.asarray(values, dtype=np.intc),
            np.asarray(j_indices, dtype=np.int32),
            np.asarray(indptr, dtype=np.int32),
        ),
        shape=(len(analysed), len(vocabulary)),
        dtype=counter.dtype,
    )
    matrix.sort_indices()
    if counter.binary:
        matrix.data.fill(1)
    return matrix
