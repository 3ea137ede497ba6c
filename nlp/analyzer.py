"""The analyzer: text in, the analysis object of `contract.md` out."""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from spacy.tokens import Doc

from nlp.context import ContextRules
from nlp.errors import (
    BinaryTextError,
    EmptyTextError,
    InputError,
    TextTooLongError,
    UnknownOptionError,
)
from nlp.lexicon import Lexicon, default_lexicon
from nlp.pipeline import LANGUAGES, doc_text, get_pipeline, process, sentence_spans
from nlp.recognizers.age import AgeLimitRecognizer
from nlp.recognizers.base import Candidate, Recognizer
from nlp.recognizers.lexicon import LexiconRecognizer
from nlp.recognizers.mentions import MentionRecognizer
from nlp.recognizers.titles import GenderedTitleRecognizer, PronounRecognizer
from nlp.schema import (
    SEVERITY_RANK,
    Analysis,
    CandidateTrace,
    Finding,
    Kind,
    Severity,
    verdict_from_severities,
)
from nlp.text import (
    html_to_text,
    language_of,
    language_scores,
    may_switch,
    neutralise_controls,
    sentence_language,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 200_000
CONTENT_TYPES = ("text/plain", "text/html")


def package_version() -> str:
    """The installed version of the `stagecheck` distribution."""
    try:
        return version("stagecheck")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


@dataclass
class Segment:
    """A run of sentences in one language, processed by that language's pipeline."""

    doc: Doc
    offset: int
    lang: str


@dataclass
class PreparedText:
    """A text ready for the recognizers: the analysed string and its language segments."""

    original: str
    analysed: str
    lang: str
    kind: Kind
    segments: list[Segment] = field(default_factory=list)
    cues: list[tuple[int, int, str]] = field(default_factory=list)

    def sentences(self) -> list[tuple[int, int]]:
        """Character spans of the sentences, in order, across all segments."""
        spans = []
        for segment in self.segments:
            text = doc_text(segment.doc)
            for start, end in sentence_spans(segment.doc):
                # Slicing the text is Span.text without rebuilding it from the tokens.
                if text[start:end].strip():
                    spans.append((segment.offset + start, segment.offset + end))
        return spans


@dataclass
class ModelReview:
    """What the learned model says about a text's candidates and sentences."""

    risk: float
    added: list[Candidate] = field(default_factory=list)


class CandidateScorer(Protocol):
    """The learned half of the analyzer (see `models/`): confirms, vetoes and adds."""

    version: str

    def review(self, prepared: PreparedText, candidates: list[Candidate]) -> ModelReview:
        """Rescore `candidates` in place (kept, score, steps) and propose new ones."""
        ...

    def review_many(
        self, texts: Sequence[tuple[PreparedText, list[Candidate]]]
    ) -> list[ModelReview]:
        """`review` for each of many texts, in one pass; the same reviews as one by one."""
        ...


@dataclass(frozen=True)
class AnalysisRequest:
    """One text to analyse with its options, as `Analyzer.analyze` takes them."""

    text: str
    kind: str | Kind = Kind.VACANCY
    lang: str | None = None
    content_type: str = "text/plain"
    id: str | None = None
    explain: bool = False


class Analyzer:
    """Analyses vacancies and employers' messages; build once per process and reuse."""

    def __init__(
        self,
        lexicon: Lexicon | None = None,
        scorer: CandidateScorer | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.lexicon = lexicon or default_lexicon()
        self.scorer = scorer
        self.max_chars = max_chars
        self._entries = {
            entry.id: entry for lang in ("nl", "en") for _, entry in self.lexicon.entries(lang)
        }
        # Each language's pipeline, recognizers and context rules are built when a text
        # first needs them: most texts are Dutch, and building English at start-up cost
        # about 0.5 s of every process's cold start (issue 7).
        self._recognizers: dict[str, list[Recognizer]] = {}
        self._context: dict[str, ContextRules] = {}
        self._building = threading.Lock()
        self._language("nl")
        digest = hashlib.sha256(self.lexicon.digest.encode())
        if scorer is not None:
            digest.update(scorer.version.encode())
        self.model_version = f"{package_version()}+{digest.hexdigest()[:7]}"

    def _language(self, lang: str) -> tuple[list[Recognizer], ContextRules]:
        """The recognizers and context rules of `lang`, built on first use (thread-safe)."""
        recognizers = self._recognizers.get(lang)
        if recognizers is None:
            with self._building:
                if lang not in self._recognizers:
                    nlp = get_pipeline(lang)
                    titles = self.lexicon.titles[lang]
                    self._context[lang] = ContextRules(nlp, self.lexicon.context[lang])
                    self._recognizers[lang] = [
                        LexiconRecognizer(nlp, self.lexicon.entries(lang)),
                        AgeLimitRecognizer(lang),
                        GenderedTitleRecognizer(lang, titles),
                        PronounRecognizer(lang, titles),
                        MentionRecognizer(nlp, self.lexicon.mentions[lang]),
                    ]
                    if gc.get_freeze_count():
                        gc.freeze()  # the process froze its start-up objects: these too
                recognizers = self._recognizers[lang]
        return recognizers, self._context[lang]

    def warm(self) -> None:
        """Build every language now, e.g. before forking workers or timing analyses."""
        for lang in LANGUAGES:
            self._language(lang)

    # -- input -----------------------------------------------------------------------------

    def prepare(
        self,
        text: str,
        kind: str | Kind = Kind.VACANCY,
        lang: str | None = None,
        content_type: str = "text/plain",
    ) -> PreparedText:
        """Validate the input and turn it into language segments; raise InputError subclasses."""
        if not isinstance(text, str):
            raise UnknownOptionError("text must be a string")
        try:
            kind = Kind(kind)
        except ValueError as exc:
            raise UnknownOptionError(
                f"unknown kind {kind!r}; use 'vacancy' or 'rejection'"
            ) from exc
        if lang not in (None, "auto", "nl", "en"):
            raise UnknownOptionError(f"unknown lang {lang!r}; use 'auto', 'nl' or 'en'")
        if content_type not in CONTENT_TYPES:
            raise UnknownOptionError(
                f"unknown content type {content_type!r}; use 'text/plain' or 'text/html'"
            )
        if "\x00" in text:
            raise BinaryTextError("text contains NUL bytes; send the text, not a binary file")
        if len(text) > self.max_chars:
            raise TextTooLongError(len(text), self.max_chars)
        original = html_to_text(text) if content_type == "text/html" else text
        if not original.strip():
            raise EmptyTextError(
                "text is empty" if not text.strip() else "the HTML holds no visible text"
            )
        analysed = neutralise_controls(original)
        # The whole text's function-word counts decide its language and whether any of its
        # sentences could be of the other one (most texts are of one language).
        scores = None if lang in ("nl", "en") else language_scores(analysed)
        doc_lang = str(lang) if scores is None else language_of(scores)
        prepared = PreparedText(original=original, analysed=analysed, lang=doc_lang, kind=kind)
        doc = process(doc_lang, analysed)
        if scores is None or not may_switch(scores, doc_lang):
            prepared.segments = [Segment(doc, 0, doc_lang)]
        else:
            prepared.segments = self._split_languages(doc, doc_lang)
        return prepared

    def _split_languages(self, doc: Doc, doc_lang: str) -> list[Segment]:
        text = doc_text(doc)
        runs: list[tuple[int, int, str]] = []
        for start, end in sentence_spans(doc):
            lang = sentence_language(text[start:end], doc_lang)
            if runs and runs[-1][2] == lang:
                runs[-1] = (runs[-1][0], end, lang)
            else:
                runs.append((start, end, lang))
        if len(runs) <= 1 or all(r[2] == doc_lang for r in runs):
            return [Segment(doc, 0, doc_lang)]
        segments = []
        for start, end, lang in runs:
            segments.append(Segment(process(lang, text[start:end]), start, lang))
        return segments

    # -- analysis --------------------------------------------------------------------------

    def analyze(
        self,
        text: str,
        kind: str | Kind = Kind.VACANCY,
        lang: str | None = None,
        content_type: str = "text/plain",
        id: str | None = None,
        explain: bool = False,
    ) -> Analysis:
        """Analyse one text and return the contract's analysis object."""
        prepared = self.prepare(text, kind, lang, content_type)
        return self.analyze_prepared(
            prepared, id=id, explain=explain, html=content_type == "text/html"
        )

    def candidates(self, prepared: PreparedText) -> list[Candidate]:
        """Every candidate of the rules, with context decisions, offsets into the text."""
        found: list[Candidate] = []
        prepared.cues.clear()
        for segment in prepared.segments:
            seg_candidates: list[Candidate] = []
            recognizers, context = self._language(segment.lang)
            for recognizer in recognizers:
                seg_candidates.extend(recognizer.analyze(segment.doc, prepared.kind))
            seg_candidates = _without_covered_mentions(seg_candidates)
            cues = context.apply(segment.doc, seg_candidates)
            prepared.cues.extend(
                (segment.offset + start, segment.offset + end, kind) for start, end, kind in cues
            )
            found.extend(c.shifted(segment.offset) for c in seg_candidates)
        return found

    def analyze_prepared(
        self,
        prepared: PreparedText,
        id: str | None = None,
        explain: bool = False,
        html: bool = False,
    ) -> Analysis:
        """Run recognizers, context, the model and the verdict on a prepared text."""
        candidates = self.candidates(prepared)
        review = self.scorer.review(prepared, candidates) if self.scorer is not None else None
        return self._conclude(prepared, candidates, review, id=id, explain=explain, html=html)

    def analyze_many(self, requests: Sequence[AnalysisRequest]) -> list[Analysis | InputError]:
        """Analyse many texts: per request its analysis, or the InputError it raised.

        Each result equals `analyze` on that request alone; the model scores the sentences
        of all texts in one pass, which saves most of its per-call overhead (screen and the
        API's batch route send their texts this way).
        """
        results: list[Analysis | InputError | None] = []
        pending: list[tuple[int, AnalysisRequest, PreparedText, list[Candidate]]] = []
        for request in requests:
            try:
                prepared = self.prepare(
                    request.text, request.kind, request.lang, request.content_type
                )
            except InputError as exc:
                results.append(exc)
                continue
            pending.append((len(results), request, prepared, self.candidates(prepared)))
            results.append(None)
        reviews: list[ModelReview | None] = [None] * len(pending)
        if self.scorer is not None and pending:
            reviews = list(self.scorer.review_many([(p, c) for _, _, p, c in pending]))
        for (index, request, prepared, candidates), review in zip(pending, reviews, strict=True):
            results[index] = self._conclude(
                prepared,
                candidates,
                review,
                id=request.id,
                explain=request.explain,
                html=request.content_type == "text/html",
            )
        return [result for result in results if result is not None]

    def _conclude(
        self,
        prepared: PreparedText,
        candidates: list[Candidate],
        review: ModelReview | None,
        id: str | None,
        explain: bool,
        html: bool,
    ) -> Analysis:
        """The model's additions, overlaps, findings, risk and verdict of one text."""
        if review is not None:
            candidates.extend(review.added)
        else:
            for candidate in candidates:
                if candidate.weak and candidate.kept:
                    candidate.drop(
                        "model",
                        "dropped: a mention is a finding only if the model confirms it, "
                        "and no model is loaded",
                    )
        chosen = _resolve_overlaps([c for c in candidates if c.kept])
        findings = [self._finding(prepared, c) for c in chosen]
        findings.sort(key=lambda f: (f.start, f.end))
        severities = [f.severity for f in findings]
        verdict = verdict_from_severities(severities)
        rule_risk = 1.0
        for f in findings:
            if f.severity is not Severity.ADVISORY:
                rule_risk *= 1.0 - f.score
        risk = 1.0 - rule_risk if any(s is not Severity.ADVISORY for s in severities) else 0.02
        if review is not None:
            risk = max(risk, review.risk) if findings else min(review.risk, 0.49)
        trace = None
        if explain:
            trace = [
                CandidateTrace(
                    rule_id=c.rule_id,
                    ground=c.ground,
                    severity=c.severity,
                    start=c.start,
                    end=c.end,
                    quote=prepared.original[c.start : c.end],
                    kept=c.kept and c in chosen,
                    steps=list(c.steps),
                )
                for c in sorted(candidates, key=lambda c: (c.start, c.end))
            ]
        return Analysis(
            id=id,
            kind=prepared.kind,
            lang=prepared.lang,
            verdict=verdict,
            risk=round(min(max(risk, 0.0), 1.0), 4),
            findings=findings,
            model_version=self.model_version,
            text=prepared.original if html else None,
            trace=trace,
        )

    def _finding(self, prepared: PreparedText, candidate: Candidate) -> Finding:
        info = self.lexicon.grounds[candidate.ground]
        lang = prepared.lang
        explanation = info.explanation.get(lang)
        suggestion: str | None = info.suggestion.get(lang)
        legal_basis = info.legal_basis
        entry = self._entries.get(candidate.rule_id)
        if entry is not None:
            if entry.explanation is not None:
                explanation = entry.explanation.get(lang)
            if entry.suggestion is not None:
                suggestion = entry.suggestion.get(lang)
            if entry.legal_basis:
                legal_basis = entry.legal_basis
        elif candidate.severity is Severity.ADVISORY and candidate.ground.value == "gender":
            explanation, suggestion = _advisory_wording(candidate.rule_id, lang)
        return Finding(
            ground=candidate.ground,
            severity=candidate.severity,
            start=candidate.start,
            end=candidate.end,
            quote=prepared.original[candidate.start : candidate.end],
            score=round(candidate.score, 4),
            source=candidate.source,
            explanation=explanation,
            legal_basis=legal_basis,
            suggestion=suggestion,
            rule_id=candidate.rule_id,
        )


def _advisory_wording(rule_id: str, lang: str) -> tuple[str, str]:
    if rule_id.endswith("male-pronoun-only"):
        if lang == "en":
            return (
                "The text refers to the intern only as 'he'. That is not discriminatory, "
                "but it may make women and non-binary students feel the post is not for them.",
                "Address the reader as 'you', or write 'he or she' / 'they'.",
            )
        return (
            "De tekst spreekt over de stagiair alleen als 'hij'. Dat is geen discriminatie, "
            "maar vrouwen en non-binaire studenten voelen zich mogelijk niet aangesproken.",
            "Spreek de lezer aan met 'je', of schrijf 'hij of zij'.",
        )
    if lang == "en":
        return (
            "This job title has a male form. Many people read it as meant for men only.",
            "Use a neutral title and add (m/f/x).",
        )
    return (
        "Deze functienaam heeft een mannelijke vorm. Veel mensen lezen die als alleen voor "
        "mannen bedoeld.",
        "Gebruik een neutrale functienaam en voeg (m/v/x) toe.",
    )


def _without_covered_mentions(candidates: list[Candidate]) -> list[Candidate]:
    """Mentions inside a phrase a rule already judged add nothing: the rule's verdict stands."""
    rules = [c for c in candidates if not c.weak]
    return [
        c
        for c in candidates
        if not c.weak or not any(c.start < r.end and r.start < c.end for r in rules)
    ]


def _resolve_overlaps(candidates: list[Candidate]) -> list[Candidate]:
    """One phrase gets one finding: the most severe, then the longest, then the surest.

    Overlapping phrases of the same ground merge into the strongest; phrases of different
    grounds both stay ("jonge meid" is age and gender), unless their spans are identical.
    """
    ordered = sorted(
        candidates,
        key=lambda c: (-SEVERITY_RANK[c.severity], -(c.end - c.start), -c.score, c.start),
    )
    chosen: list[Candidate] = []
    for candidate in ordered:
        clash = False
        for other in chosen:
            overlaps = candidate.start < other.end and other.start < candidate.end
            if not overlaps:
                continue
            same_span = (candidate.start, candidate.end) == (other.start, other.end)
            if other.ground == candidate.ground or same_span:
                clash = True
                break
        if not clash:
            chosen.append(candidate)
    return chosen
