"""The learned half of the analyzer: confirms or vetoes rule candidates in context and
adds findings for sentences the rules missed."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from models.artifact import ModelArtifact
from models.features import SentenceUnit, normalise, sentence_units
from models.vectorise import CachedFeatures, UnsupportedFeaturesError
from nlp.analyzer import ModelReview, PreparedText
from nlp.lexicon import ContextPolicy
from nlp.recognizers.base import Candidate
from nlp.schema import Ground, Severity, TraceStep

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w[\w'-]*")
_MAX_QUOTE_TOKENS = 8


def _binary_weights(clf: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A fitted binary LogisticRegression's coef_.T and intercept_; None for other models."""
    if not isinstance(clf, LogisticRegression) or len(clf.classes_) != 2:
        return None
    if clf.coef_.ndim != 2 or clf.coef_.shape[0] != 1:
        return None
    return clf.coef_.T, clf.intercept_


def _positive_proba(matrix: Any, coef_t: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """predict_proba(matrix)[:, 1], computed as scikit-learn does for binary OvR models:
    the same sparse-dense product, the intercept added, then expit in place."""
    scores = np.reshape(matrix @ coef_t + intercept, (-1,))
    return expit(scores, out=scores)


class ModelScorer:
    """Implements nlp.analyzer.CandidateScorer with the trained pipelines."""

    def __init__(self, artifact: ModelArtifact, mode: str = "combined") -> None:
        if mode not in ("combined", "model_only"):
            raise ValueError(f"unknown scorer mode {mode!r}")
        self.mode = mode
        self.artifact = artifact
        self.version = artifact.version
        self.veto_below = float(artifact.thresholds["veto_below"])
        self.add_above = float(artifact.thresholds["add_above"])
        self.explicit_above = float(artifact.thresholds.get("explicit_above", 1.01))
        # Quotes of model findings are narrowed with the text-only model's word weights.
        features = artifact.paraphraser.named_steps["features"]
        words = features.transformer_list[0][1].named_steps["tfidf"]
        self._word_index: dict[str, int] = words.vocabulary_
        coef = artifact.paraphraser.named_steps["clf"].coef_[0]
        self._word_weights = coef[: len(words.vocabulary_)]
        # The detector's features with a word cache; the text-only model reuses their text
        # columns when it was fitted on the same rows (as `stagecheck train` does), instead
        # of vectorising every sentence a second time. Both give the same numbers.
        union = artifact.detector.named_steps["features"]
        self._features: CachedFeatures | None = None
        self._shared_text_columns = False
        try:
            self._features = CachedFeatures(union)
        except UnsupportedFeaturesError as exc:
            logger.info("model features computed by scikit-learn: %s", exc)
        if self._features is not None:
            self._shared_text_columns = self._features.same_text_features(features)
        self._paraphraser_clf = artifact.paraphraser.named_steps["clf"]
        # Both binary models' P(class 1) as one sparse product each, without scikit-learn's
        # per-call input validation; the text-only model's weights padded with zeros for
        # the rule columns read the detector's matrix as it is (a zero adds nothing to the
        # row's sum, which keeps its order), instead of copying its text columns out.
        self._detector_weights = _binary_weights(artifact.detector.named_steps["clf"])
        self._text_weights = None
        paraphraser = _binary_weights(self._paraphraser_clf)
        if paraphraser is not None and self._shared_text_columns and self._features is not None:
            coef, intercept = paraphraser
            if coef.shape[0] == self._features.text_columns:
                padded = np.zeros((self._features.columns, 1), dtype=coef.dtype)
                padded[: coef.shape[0]] = coef
                self._text_weights = (padded, intercept)

    def probabilities(self, units: list[SentenceUnit]) -> tuple[np.ndarray, Any]:
        """P(discriminatory) per sentence and the shared feature matrix."""
        rows = [{"text": u.text, "rules": u.rules} for u in units]
        if self._features is not None:
            features = self._features.transform(rows)
        else:
            features = self.artifact.detector.named_steps["features"].transform(rows)
        if self._detector_weights is not None:
            proba = _positive_proba(features, *self._detector_weights)
        else:
            proba = self.artifact.detector.named_steps["clf"].predict_proba(features)[:, 1]
        return proba, features

    def text_matrix(self, units: list[SentenceUnit], features: Any, rows: list[int]) -> Any:
        """The text-only features of the sentences `rows` of `units`.

        Sliced from the detector's matrix when both were fitted on the same rows (the same
        numbers, computed once); otherwise vectorised by the paraphraser's own features.
        """
        if self._shared_text_columns and self._features is not None:
            return features[rows][:, : self._features.text_columns]
        return self.artifact.paraphraser.named_steps["features"].transform(
            [{"text": units[i].text, "rules": units[i].rules} for i in rows]
        )

    def review(self, prepared: PreparedText, candidates: list[Candidate]) -> ModelReview:
        """Veto weak rule candidates, confirm the rest, add model-only findings."""
        return self.review_many([(prepared, candidates)])[0]

    def review_many(
        self, texts: Sequence[tuple[PreparedText, list[Candidate]]]
    ) -> list[ModelReview]:
        """`review` for many texts, with the sentences of all of them scored at once.

        Every feature and probability is computed row by row, so each text gets the review
        it would get alone; one call per batch saves scikit-learn's per-call overhead.
        """
        units_of = [sentence_units(prepared, candidates) for prepared, candidates in texts]
        units = [unit for text_units in units_of for unit in text_units]
        owner = [number for number, text_units in enumerate(units_of) for _ in text_units]
        if not units:
            return [ModelReview(risk=0.0) for _ in texts]
        proba, features = self.probabilities(units)
        added_rows: list[int] = []
        for index, unit in enumerate(units):
            p = float(proba[index])
            live = [c for c in unit.candidates if c.kept and c.severity is not Severity.ADVISORY]
            if self.mode == "model_only":
                for candidate in live:
                    candidate.kept = False
                live = []
            for candidate in live:
                before = candidate.score
                if p < self.veto_below:
                    candidate.kept = False
                    candidate.steps.append(
                        TraceStep(
                            step="model",
                            detail=f"vetoed: the sentence scores p={p:.2f}, "
                            f"below {self.veto_below:.2f}",
                            score_before=before,
                            score_after=0.0,
                        )
                    )
                else:
                    candidate.score = round(0.5 * before + 0.5 * max(p, before), 4)
                    candidate.steps.append(
                        TraceStep(
                            step="model",
                            detail=f"confirmed: sentence p={p:.2f}",
                            score_before=before,
                            score_after=candidate.score,
                        )
                    )
            if not live:
                added_rows.append(index)
        added: list[list[Candidate]] = [[] for _ in texts]
        if added_rows:
            # One text matrix serves the paraphraser, the grounder and the severity model:
            # all three read the same fitted text features.
            if self._text_weights is not None:
                text_proba = _positive_proba(features[added_rows], *self._text_weights)
            else:
                text_matrix = self.text_matrix(units, features, added_rows)
                text_proba = self._paraphraser_clf.predict_proba(text_matrix)[:, 1]
            keep = [k for k, q in enumerate(text_proba) if q >= self.add_above]
            text_scores = {added_rows[k]: float(text_proba[k]) for k in keep}
            added_rows = [added_rows[k] for k in keep]
        if added_rows:
            sub = self.text_matrix(units, features, added_rows)
            grounds = self.artifact.grounder.named_steps["clf"].predict(sub)
            explicit = self.artifact.severity.named_steps["clf"].predict_proba(sub)[:, 1]
            for row, ground, p_explicit in zip(added_rows, grounds, explicit, strict=True):
                unit = units[row]
                prepared = texts[owner[row]][0]
                start, end = self._narrow(prepared.analysed, unit)
                p = text_scores[row]
                severity = (
                    Severity.EXPLICIT
                    if p_explicit >= 0.5 and p >= self.explicit_above
                    else Severity.IMPLICIT
                )
                added[owner[row]].append(
                    Candidate(
                        start=start,
                        end=end,
                        ground=Ground(str(ground)),
                        severity=severity,
                        rule_id=f"model.{ground}",
                        lang=prepared.lang,
                        score=round(p, 4),
                        policy=ContextPolicy(),
                        source="model",
                        steps=[
                            TraceStep(
                                step="model",
                                detail=f"added: no rule fired, text-only model "
                                f"p={p:.2f} >= {self.add_above:.2f}; ground {ground}",
                                score_after=round(p, 4),
                            )
                        ],
                    )
                )
        reviews = []
        first = 0
        for number, text_units in enumerate(units_of):
            if not text_units:
                reviews.append(ModelReview(risk=0.0))
                continue
            risk = float(proba[first : first + len(text_units)].max())
            reviews.append(ModelReview(risk=risk, added=added[number]))
            first += len(text_units)
        return reviews

    def _narrow(self, text: str, unit: SentenceUnit) -> tuple[int, int]:
        """The run of words with the highest summed weight: the phrase carrying the signal."""
        tokens = [(m.start(), m.end(), normalise(m.group())) for m in _TOKEN.finditer(unit.text)]
        if not tokens:
            return unit.start, unit.end
        weights = []
        for _, _, word in tokens:
            index = self._word_index.get(word)
            weights.append(float(self._word_weights[index]) if index is not None else 0.0)
        best, best_span = 0.0, None
        for i in range(len(tokens)):
            total = 0.0
            for j in range(i, min(len(tokens), i + _MAX_QUOTE_TOKENS)):
                total += weights[j]
                if total > best:
                    best, best_span = total, (i, j)
        if best_span is None:
            start, end = unit.start, unit.end
            while end > start and text[end - 1].isspace():
                end -= 1
            return start, end
        i, j = best_span
        return unit.start + tokens[i][0], unit.start + tokens[j][1]
