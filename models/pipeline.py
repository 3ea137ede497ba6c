"""The scikit-learn pipelines: one feature union, a detector, a grounder, a severity model."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from models.features import WORD_TOKENS, select_rules, select_text, split_tokens


def build_text_features() -> FeatureUnion:
    """Word 1-2 grams and character 3-5 grams within words: the text alone."""
    return FeatureUnion(build_features().transformer_list[:2])


def build_features() -> FeatureUnion:
    """Word 1-2 grams, character 3-5 grams within words, and the rules' output."""
    return FeatureUnion(
        [
            (
                "words",
                Pipeline(
                    [
                        ("select", FunctionTransformer(select_text)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                ngram_range=(1, 2),
                                # A word must occur in 3+ sentences: a company name in one
                                # flagged text must not become evidence (MODEL_CARD features).
                                min_df=3,
                                max_features=60_000,
                                sublinear_tf=True,
                                token_pattern=WORD_TOKENS,
                                dtype=np.float64,
                            ),
                        ),
                    ]
                ),
            ),
            (
                "chars",
                Pipeline(
                    [
                        ("select", FunctionTransformer(select_text)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=(3, 5),
                                min_df=3,
                                max_features=60_000,
                                sublinear_tf=True,
                                dtype=np.float64,
                            ),
                        ),
                    ]
                ),
            ),
            (
                "rules",
                Pipeline(
                    [
                        ("select", FunctionTransformer(select_rules)),
                        (
                            "count",
                            CountVectorizer(
                                tokenizer=split_tokens,
                                token_pattern=None,
                                lowercase=False,
                                binary=True,
                            ),
                        ),
                    ]
                ),
            ),
        ]
    )


def build_classifier(seed: int, c: float = 4.0) -> LogisticRegression:
    """A balanced logistic regression; liblinear is deterministic for a fixed seed."""
    return LogisticRegression(
        C=c, class_weight="balanced", max_iter=5_000, solver="liblinear", random_state=seed
    )


def build_multiclass(seed: int, c: float = 4.0) -> LogisticRegression:
    """A multinomial logistic regression for the ground of a flagged sentence."""
    return LogisticRegression(
        C=c, class_weight="balanced", max_iter=5_000, solver="lbfgs", random_state=seed
    )
