"""The fitted model as plain arrays: the pipelines' numbers, without importing scikit-learn.

Importing scikit-learn took 0.8-1.2 s of a 4.6 s cold start of the service (issue 7), while
analysis uses only what the pipelines learnt: vocabularies, IDF weights and coefficients.
`stagecheck train` extracts them into a `ServingModel` (`from_pipelines`), checks on its
dev sentences that it gives the pipelines' numbers bit for bit (`verify`), and saves it in
the artefact beside the pipelines. The analyzer loads only this; the pipelines stay in the
artefact for inspection (`stagecheck evaluate --features`) and are unpickled on demand.

`char_wb_ngrams` follows scikit-learn's `_VectorizerMixin._char_wb_ngrams` (BSD-3-Clause) step
for step, and models/vectorise.py makes word n-grams as its `_word_ngrams` does, so that the
n-grams, and with them the counts, are the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np


class UnsupportedModelError(ValueError):
    """The pipelines are not laid out as models/pipeline.py builds them."""


WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's _VectorizerMixin._white_spaces


@dataclass(frozen=True)
class TextBlock:
    """One fitted TF-IDF vectorizer: word n-grams or character n-grams within words."""

    analyzer: str  # "word" or "char_wb"
    vocabulary: dict[str, int]
    idf: np.ndarray
    ngram_range: tuple[int, int]
    token_pattern: str | None  # words only
    sublinear_tf: bool
    l2: bool  # rows normalised to unit length (norm="l2"), else not normalised


@dataclass(frozen=True)
class LinearHead:
    """A fitted logistic regression: decision = X @ coef_t + intercept."""

    coef_t: np.ndarray  # (features, 1) for a binary model, (features, classes) otherwise
    intercept: np.ndarray
    classes: tuple[Any, ...]

    def positive_proba(self, matrix: Any) -> np.ndarray:
        """P(class 1) of a binary model, as scikit-learn's predict_proba(...)[:, 1].

        The same sparse-dense product and intercept; then expit, written as
        1 / (1 + exp(-x)) with the C library's exp, which is how SciPy computes it: equal to
        scipy.special.expit bit for bit (numpy's vectorised exp is not).
        """
        scores = np.reshape(matrix @ self.coef_t + self.intercept, (-1,))
        exp = math.exp
        return np.fromiter(
            (1.0 / (1.0 + exp(-float(x))) for x in scores), dtype=np.float64, count=len(scores)
        )

    def predict(self, matrix: Any) -> list[Any]:
        """The most likely class of each row, as a multiclass model's predict."""
        scores = matrix @ self.coef_t + self.intercept
        return [self.classes[int(k)] for k in np.argmax(scores, axis=1)]


@dataclass(frozen=True)
class ServingModel:
    """Everything analysis needs from the four fitted pipelines, as plain data.

    The detector reads [words | chars | rules]; the text-only models (paraphraser,
    severity, grounder) read [words | chars], the first `text_columns` of the same matrix,
    which `from_pipelines` checks: they were fitted on the same rows.
    """

    words: TextBlock
    chars: TextBlock
    rules: dict[str, int]  # the rule-feature vocabulary; binary counts of split tokens
    detector: LinearHead
    paraphraser: LinearHead
    severity: LinearHead
    grounder: LinearHead

    @property
    def text_columns(self) -> int:
        return len(self.words.vocabulary) + len(self.chars.vocabulary)

    @property
    def columns(self) -> int:
        return self.text_columns + len(self.rules)


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with one space a side."""
    text = WHITE_SPACES.sub(" ", text)
    min_n, max_n = ngram_range
    ngrams: list[str] = []
    append = ngrams.append
    for word in text.split():
        word = " " + word + " "
        length = len(word)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(word[offset : offset + n])
            while offset + n < length:
                offset += 1
                append(word[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return ngrams


def _text_block(vectorizer: Any, analyzer: str) -> TextBlock:
    params = vectorizer.get_params()
    expected = {
        "analyzer": analyzer,
        "binary": False,
        "input": "content",
        "lowercase": True,
        "preprocessor": None,
        "stop_words": None,
        "strip_accents": None,
        "tokenizer": None,
        "use_idf": True,
        "dtype": np.float64,
    }
    wrong = {k: params.get(k) for k, v in expected.items() if params.get(k) != v}
    if wrong or params.get("norm") not in ("l2", None):
        raise UnsupportedModelError(f"a {analyzer} vectorizer with {wrong or params['norm']}")
    return TextBlock(
        analyzer=analyzer,
        vocabulary=dict(vectorizer.vocabulary_),
        idf=np.array(vectorizer.idf_, dtype=np.float64),
        ngram_range=tuple(params["ngram_range"]),
        token_pattern=params["token_pattern"] if analyzer == "word" else None,
        sublinear_tf=bool(params["sublinear_tf"]),
        l2=params["norm"] == "l2",
    )


def _head(clf: Any, binary: bool) -> LinearHead:
    classes = tuple(clf.classes_.tolist())
    if binary and (len(classes) != 2 or clf.coef_.shape[0] != 1):
        raise UnsupportedModelError(f"expected a binary model, got classes {classes}")
    if not binary and clf.coef_.shape[0] != len(classes):
        raise UnsupportedModelError(f"expected a multiclass model, got classes {classes}")
    return LinearHead(coef_t=clf.coef_.T, intercept=clf.intercept_, classes=classes)


def _steps(pipeline: Any) -> tuple[Any, Any]:
    names = [name for name, _ in pipeline.steps]
    if names != ["features", "clf"]:
        raise UnsupportedModelError(f"a pipeline with steps {names}")
    return pipeline.named_steps["features"], pipeline.named_steps["clf"]


def from_pipelines(detector: Any, paraphraser: Any, severity: Any, grounder: Any) -> ServingModel:
    """Extract the serving model from the fitted pipelines of models/train.py."""
    union, detector_clf = _steps(detector)
    names = [name for name, _ in union.transformer_list]
    if names != ["words", "chars", "rules"]:
        raise UnsupportedModelError(f"detector features {names}, expected words, chars, rules")
    blocks = dict(union.transformer_list)
    for name in names:
        steps = [step for step, _ in blocks[name].steps]
        if steps[0] != "select" or len(steps) != 2:
            raise UnsupportedModelError(f"feature block {name} has steps {steps}")
    words = _text_block(blocks["words"].steps[-1][1], "word")
    chars = _text_block(blocks["chars"].steps[-1][1], "char_wb")
    counter = blocks["rules"].steps[-1][1]
    params = counter.get_params()
    tokenizer = getattr(params["tokenizer"], "__name__", None)
    if (
        not params["binary"]
        or params["lowercase"]
        or params["ngram_range"] != (1, 1)
        or tokenizer != "split_tokens"
        or params["analyzer"] != "word"
        or params["preprocessor"] is not None
        or params["strip_accents"] is not None
        or params["stop_words"] is not None
    ):
        raise UnsupportedModelError("the rule features are not binary split tokens")
    text_heads = []
    for pipeline in (paraphraser, severity, grounder):
        text_union, clf = _steps(pipeline)
        theirs = dict(text_union.transformer_list)
        if list(theirs) != ["words", "chars"]:
            raise UnsupportedModelError(f"text features {list(theirs)}, expected words, chars")
        for block, name in ((words, "words"), (chars, "chars")):
            other = _text_block(theirs[name].steps[-1][1], block.analyzer)
            if other.vocabulary != block.vocabulary or not np.array_equal(other.idf, block.idf):
                raise UnsupportedModelError(f"the text models' {name} differ from the detector's")
        text_heads.append(clf)
    return ServingModel(
        words=words,
        chars=chars,
        rules=dict(counter.vocabulary_),
        detector=_head(detector_clf, binary=True),
        paraphraser=_head(text_heads[0], binary=True),
        severity=_head(text_heads[1], binary=True),
        grounder=_head(text_heads[2], binary=False),
    )
