"""The learned half of the analyzer: confirms or vetoes rule candidates in context and
adds findings for sentences the rules missed."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.artifact import ModelArtifact
from models.features import WORD_TOKENS, SentenceUnit, normalise, sentence_units
from models.serving import LinearHead
from models.vectorise import CachedFeatures
from nlp.analyzer import ModelReview, PreparedText
from nlp.lexicon import ContextPolicy
from nlp.recognizers.base import Candidate
from nlp.schema import Ground, Severity, TraceStep

logger = logging.getLogger(__name__)

# The word vectorizer's own token pattern, so that word n-grams map back onto these words.
_TOKEN = re.compile(WORD_TOKENS)
_MAX_QUOTE_TOKENS = 8


class ModelScorer:
    """Implements nlp.analyzer.CandidateScorer with the trained pipelines."""

    def __init__(self, artifact: ModelArtifact, mode: str = "combined") -> None:
        if mode not in ("combined", "model_only"):
            raise ValueError(f"unknown scorer mode {mode!r}")
        self.mode = mode
        self.artifact = artifact
        self.version = artifact.version
        self.veto_below = float(artifact.thresholds["veto_below"])
        # Explicit rule hits ("Nederlandse nationaliteit", "kerngezond") have their own veto
        # threshold, tuned on dev: the detector often scored them low beside a lawful
        # requirement in the same sentence.
        self.veto_explicit_below = float(
            artifact.thresholds.get("veto_explicit_below", self.veto_below)
        )
        self.add_above = float(artifact.thresholds["add_above"])
        self.explicit_above = float(artifact.thresholds.get("explicit_above", 1.01))
        self.mention_above = float(artifact.thresholds.get("mention_above", 1.01))
        # The pipelines' numbers from plain arrays (models/serving.py): no scikit-learn.
        serving = artifact.serving
        self.serving = serving
        self._features = CachedFeatures(serving)
        # Quotes of model findings are narrowed with what each word adds to the text-only
        # model's score: its word 1-2 grams and the character n-grams inside it.
        self._word_grams = _by_column(serving.words.vocabulary)
        self._char_grams = _by_column(serving.chars.vocabulary)
        self._paraphraser_coef = serving.paraphraser.coef_t[:, 0]
        # The text-only model reads the first columns of the detector's matrix. Its weights
        # padded with zeros for the rule columns read that matrix as it is (a zero adds
        # nothing to the row's sum, which keeps its order), instead of copying the text
        # columns out.
        padded = np.zeros((serving.columns, 1), dtype=serving.paraphraser.coef_t.dtype)
        padded[: serving.text_columns] = serving.paraphraser.coef_t
        self._text_head = LinearHead(
            padded, serving.paraphraser.intercept, serving.paraphraser.classes
        )

    def probabilities(self, units: list[SentenceUnit]) -> tuple[np.ndarray, Any]:
        """P(discriminatory) per sentence and the shared feature matrix."""
        features = self._features.transform([{"text": u.text, "rules": u.rules} for u in units])
        return self.serving.detector.positive_proba(features), features

    def text_matrix(self, features: Any, rows: list[int]) -> Any:
        """The text-only features of the sentences `rows`: the first columns of `features`."""
        return features[rows][:, : self.serving.text_columns]

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
        live_of: list[list[Candidate]] = []
        mentions_of: list[list[Candidate]] = []
        for unit in units:
            live = [c for c in unit.candidates if c.live]
            mentions = [c for c in unit.candidates if c.kept and c.weak]
            if self.mode == "model_only":
                for candidate in live + mentions:
                    candidate.kept = False
                live, mentions = [], []
            live_of.append(live)
            mentions_of.append(mentions)
        # The text-only score of every sentence: it vetoes or confirms the rules, confirms
        # mentions and proposes additions.
        text_proba = self._text_head.positive_proba(features)
        added_rows: list[int] = []
        confirmed_rows: list[int] = []
        for index in range(len(units)):
            q = float(text_proba[index])
            confirmed = self._judge_mentions(mentions_of[index], q)
            if confirmed:
                confirmed_rows.append(index)
            self._judge_live(live_of[index], veto_score(float(proba[index]), q))
            if not live_of[index] and not confirmed and q >= self.add_above:
                added_rows.append(index)
        # One text matrix of the sentences that get a finding serves the grounder, the
        # severity model and the narrowing: all read the same fitted text features.
        rows = confirmed_rows + added_rows
        text_at = {row: k for k, row in enumerate(rows)}
        text_matrix: Any = None
        explicit_of: dict[int, float] = {}
        if rows:
            text_matrix = self.text_matrix(features, rows).tocsr()
            explicit = self.serving.severity.positive_proba(text_matrix)
            explicit_of = dict(zip(rows, (float(e) for e in explicit), strict=True))
        # A confirmed mention names the characteristic ("lesbische", "young children"); the
        # words that exclude for it are often elsewhere in the sentence ("... gaat problemen
        # geven"). Its quote runs from the mention to the phrase that carries the text-only
        # score, so that the officer sees the reason, not only the word (dev finding recall
        # 0.737 -> 0.751; the quote stays within its sentence). That phrase is sought with
        # the mention's own words counting for nothing: they weigh most and kept the quote
        # on "ramadan" instead of reaching "iemand nodig die 100% energie heeft" (dev 0.749
        # -> 0.758). The severity model may make it explicit.
        for row in confirmed_rows:
            prepared = texts[owner[row]][0]
            kept = [c for c in mentions_of[row] if c.kept]
            carrier = self.carrier(
                units[row], text_matrix[text_at[row]], [(c.start, c.end) for c in kept]
            )
            carrier_start, carrier_end = carrier if carrier else (kept[0].start, kept[0].end)
            for candidate in kept:
                if explicit_of[row] >= 0.5:
                    candidate.severity = Severity.EXPLICIT
                    candidate.rescore(
                        "model",
                        f"explicit: the severity model gives p={explicit_of[row]:.2f}",
                        candidate.score,
                    )
                start = min(candidate.start, carrier_start)
                end = max(candidate.end, carrier_end)
                if (start, end) != (candidate.start, candidate.end):
                    candidate.start, candidate.end = start, end
                    candidate.rescore(
                        "model",
                        f"quote widened to the words that carry the score: "
                        f"{prepared.analysed[start:end]!r}",
                        candidate.score,
                    )
        added: list[list[Candidate]] = [[] for _ in texts]
        if added_rows:
            sub = text_matrix[[text_at[row] for row in added_rows]]
            grounds = self.serving.grounder.predict(sub)
            for k, (row, ground) in enumerate(zip(added_rows, grounds, strict=True)):
                unit = units[row]
                prepared = texts[owner[row]][0]
                start, end = self.narrow(prepared.analysed, unit, sub[k])
                q = float(text_proba[row])
                severity = (
                    Severity.EXPLICIT
                    if explicit_of[row] >= 0.5 and q >= self.explicit_above
                    else Severity.IMPLICIT
                )
                candidate = Candidate(
                    start=start,
                    end=end,
                    ground=Ground(str(ground)),
                    severity=severity,
                    rule_id=f"model.{ground}",
                    lang=prepared.lang,
                    score=round(q, 4),
                    policy=ContextPolicy(),
                    source="model",
                    steps=[
                        TraceStep(
                            step="model",
                            detail=f"added: no rule fired, text-only model "
                            f"p={q:.2f} >= {self.add_above:.2f}; ground {ground}",
                            score_after=round(q, 4),
                        )
                    ],
                )
                cue = _sentence_cue(prepared, unit)
                if cue is not None:
                    candidate.drop("context", f"dropped: {cue} in the sentence")
                added[owner[row]].append(candidate)
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

    def _judge_live(self, live: list[Candidate], p: float) -> None:
        """Veto the rules' candidates of a sentence scoring below their veto threshold (one for
        explicit candidates, one for the rest); confirm the others.

        `p` is `veto_score`: the mean of the detector's and the text-only score.
        """
        for candidate in live:
            below = (
                self.veto_explicit_below
                if candidate.severity is Severity.EXPLICIT
                else self.veto_below
            )
            if p < below:
                candidate.drop(
                    "model",
                    f"vetoed: the sentence scores p={p:.2f}, below {below:.2f}",
                )
            else:
                before = candidate.score
                candidate.rescore(
                    "model",
                    f"confirmed: sentence p={p:.2f}",
                    round(0.5 * before + 0.5 * max(p, before), 4),
                )

    def _judge_mentions(self, mentions: list[Candidate], q: float) -> bool:
        """Confirm the sentence's mentions when its text scores q >= mention_above, else drop.

        The text-only score, not the detector's: on dev sentences with a mention it ranks the
        discriminatory ones better (ROC AUC 0.963 against 0.913), because the detector leans
        on the rules' verdicts, which a mention does not have.
        """
        for candidate in mentions:
            if q >= self.mention_above:
                candidate.rescore(
                    "model",
                    f"confirmed: text-only p={q:.2f} >= {self.mention_above:.2f}",
                    round(q, 4),
                )
            else:
                candidate.drop(
                    "model",
                    f"dropped: a mention needs text-only p >= {self.mention_above:.2f}, "
                    f"this one scores p={q:.2f}",
                )
        return any(c.kept for c in mentions)

    def narrow(self, text: str, unit: SentenceUnit, row: Any = None) -> tuple[int, int]:
        """The run of words that adds most to the text-only score: the phrase carrying the signal.

        Each feature's share of the score (weight times value in `row`, the sentence's
        text-only features; computed when not given) is spread over the words it comes from:
        a word or word pair over its words, a character n-gram over the words that hold it.
        The quote is the run of at most eight words with the highest sum; the sentence when
        no run adds anything.
        """
        span = self.carrier(unit, row)
        if span is None:
            start, end = unit.start, unit.end
            while end > start and text[end - 1].isspace():
                end -= 1
            return start, end
        return span

    def carrier(
        self, unit: SentenceUnit, row: Any = None, besides: Sequence[tuple[int, int]] = ()
    ) -> tuple[int, int] | None:
        """`narrow`'s run of words, with the words inside the spans `besides` counting for
        nothing; None when no run adds to the score."""
        tokens = [(m.start(), m.end(), normalise(m.group())) for m in _TOKEN.finditer(unit.text)]
        if not tokens:
            return None
        if row is None:
            row = self.text_matrix(
                self._features.transform([{"text": unit.text, "rules": unit.rules}]), [0]
            )
        weights = _token_contributions(
            [word for _, _, word in tokens],
            row.tocsr(),
            self._paraphraser_coef,
            self._word_grams,
            self._char_grams,
        )
        for k, (start, end, _) in enumerate(tokens):
            if any(s < unit.start + end and unit.start + start < e for s, e in besides):
                weights[k] = 0.0
        best, best_span = 0.0, None
        for i in range(len(tokens)):
            total = 0.0
            for j in range(i, min(len(tokens), i + _MAX_QUOTE_TOKENS)):
                total += weights[j]
                if total > best:
                    best, best_span = total, (i, j)
        if best_span is None:
            return None
        i, j = best_span
        return unit.start + tokens[i][0], unit.start + tokens[j][1]


def _sentence_cue(prepared: PreparedText, unit: SentenceUnit) -> str | None:
    """An inclusive statement or a negating phrase anywhere in the sentence, described.

    The text-only model reads words, not their order: "Een Nederlands paspoort is niet
    nodig" shares them with the demand for one. Its findings are whole-sentence judgements,
    so the sentence's cues count wherever they stand; single negators ("niet", "no") do not,
    since discriminatory sentences are full of them ("we nemen geen ...").
    """
    for start, end, kind in prepared.cues:
        if not (unit.start <= start and end <= unit.end):
            continue
        text = prepared.analysed[start:end]
        if kind == "inclusive":
            return f"inclusive statement {text!r}"
        if kind == "negation_after" and " " in text.strip():
            return f"negation {text!r}"
    return None


def veto_score(detector: float, text_only: float) -> float:
    """What the veto reads: the mean of the detector's score and the text-only score.

    The detector also reads the rules' output, and it learnt from training texts that the
    lexicons were written from, where a rule is nearly always right: on dev sentences where a
    rule fired it separates the discriminatory ones worse than the text alone (ROC AUC 0.835
    against 0.878). The text alone misses short rule phrases it has seen little of ("You are in
    excellent health": 0.30). The mean separates as well as the text (0.880) and keeps those.
    """
    return (detector + text_only) / 2


def _by_column(vocabulary: dict[str, int]) -> list[str]:
    grams = [""] * len(vocabulary)
    for gram, column in vocabulary.items():
        grams[column] = gram
    return grams


def _token_contributions(
    words: list[str],
    row: Any,
    coef: np.ndarray,
    word_grams: list[str],
    char_grams: list[str],
) -> list[float]:
    """Each word's share of a linear model's score over word 1-2 grams then char n-grams."""
    weights = [0.0] * len(words)
    padded = [f" {word} " for word in words]
    for column, value in zip(row.indices, row.data, strict=True):
        share = float(coef[column]) * float(value)
        if share == 0.0:
            continue
        if column < len(word_grams):
            parts = word_grams[column].split(" ")
            starts = [
                i for i in range(len(words) - len(parts) + 1) if words[i : i + len(parts)] == parts
            ]
            for i in starts:
                for k in range(len(parts)):
                    weights[i + k] += share / (len(starts) * len(parts))
        else:
            gram = char_grams[column - len(word_grams)]
            counts = [p.count(gram) for p in padded]
            total = sum(counts)
            for i, count in enumerate(counts):
                if count:
                    weights[i] += share * count / total
    return weights
