"""Context rules: drop candidates that stand in an inclusive statement, under a negation
that reverses them, in a description of clients, or beside an objective justification.

The cues are data (`lexicons/<lang>/context.yml`); an entry's `context` policy says which
kinds may drop it. Every decision is recorded on the candidate for the `explain` trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from nlp.lexicon import ContextCues
from nlp.recognizers.base import Candidate

# Justifications that may stand in the sentence before or after ("Je bent 18+. Je schenkt
# alcohol."). Safety rules must stand in the sentence itself: "voor iedereen" one sentence
# away does not make a headwear ban lawful.
_WIDE_JUSTIFICATIONS = {
    "age_minimum",
    "stated_reason",
    "preference_policy",
    "religious_institution",
}


@dataclass(frozen=True)
class _Cue:
    kind: str
    start: int
    end: int
    text: str


class ContextRules:
    """Applies one language's context cues to candidates found in a Doc."""

    def __init__(self, nlp: Language, cues: ContextCues) -> None:
        self.cues = cues
        self._matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        groups: dict[str, list[str]] = {
            "inclusive": cues.inclusive,
            "negation_before": cues.negation_before,
            "negation_after": cues.negation_after,
            "description": cues.description,
            "exclusion": cues.exclusion,
            "break": cues.clause_breaks,
        }
        for name, phrases in cues.justification.items():
            groups[f"justification:{name}"] = phrases
        for name, phrases in groups.items():
            if phrases:
                self._matcher.add(name, list(nlp.pipe(phrases)))

    def _find_cues(self, doc: Doc) -> list[_Cue]:
        strings = doc.vocab.strings
        return [
            _Cue(strings[match_id], start, end, doc[start:end].text)
            for match_id, start, end in self._matcher(doc)
        ]

    def apply(self, doc: Doc, candidates: list[Candidate]) -> list[tuple[int, int, str]]:
        """Mark candidates as dropped (kept=False) where their context says so.

        Returns every cue found in the Doc as (start char, end char, kind), for the model.
        """
        cues = self._find_cues(doc)
        found = [(doc[c.start].idx, doc[c.end - 1].idx + len(doc[c.end - 1]), c.kind) for c in cues]
        if not candidates:
            return found
        breaks = sorted(c.start for c in cues if c.kind == "break")
        # "niet geschikt voor", "can't have": a negator inside an exclusion phrase is the
        # exclusion itself, so it never reverses a candidate (the model still sees it).
        exclusions = [c for c in cues if c.kind == "exclusion"]
        cues = [
            c
            for c in cues
            if not (
                c.kind.startswith("negation")
                and any(e.start <= c.start and c.end <= e.end for e in exclusions)
            )
        ]
        for candidate in candidates:
            span = doc.char_span(candidate.start, candidate.end, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            reason = self._reason(doc, span, candidate, cues, breaks)
            if reason is not None:
                candidate.drop("context", f"dropped: {reason}")
            else:
                candidate.rescore(
                    "context",
                    "kept: no inclusive, negation, description or justification cue applies",
                    candidate.score,
                )
        return found

    def _reason(
        self, doc: Doc, span: Span, candidate: Candidate, cues: list[_Cue], breaks: list[int]
    ) -> str | None:
        policy = candidate.policy
        sent = span.sent
        clause_start = max([b for b in breaks if sent.start <= b <= span.start] + [sent.start])
        clause_end = min([b for b in breaks if span.end <= b < sent.end] + [sent.end])
        inside = lambda cue: cue.start < span.end and span.start < cue.end  # noqa: E731
        for cue in cues:
            # A phrase may carry its own negation ("geen hoofddoek"): cues inside it do not count.
            if inside(cue):
                continue
            in_clause = clause_start <= cue.start and cue.end <= clause_end
            if cue.kind == "inclusive" and policy.inclusive and in_clause:
                return f"inclusive statement {cue.text!r} in the same sentence"
            negates = policy.negation and in_clause
            # A single negator ("niet", "no") reaches a few tokens; a specific phrase
            # ("hoeft niet", "don't need you to") reaches twice as far.
            window = self.cues.negation_window * (1 if cue.end - cue.start == 1 else 2)
            if (
                negates
                and cue.kind == "negation_before"
                and span.start - window <= cue.end <= span.start
                and not _separated(doc, cue.end, span.start)
            ):
                return f"negation {cue.text!r} before it"
            if (
                negates
                and cue.kind == "negation_after"
                and span.end <= cue.start <= span.end + window
                and not _separated(doc, span.end, cue.start)
            ):
                return f"negation {cue.text!r} after it"
            if cue.kind == "description" and policy.description and in_clause:
                window = self.cues.description_window
                if (
                    span.start - window <= cue.end <= span.start
                    or span.end <= cue.start <= span.end + window
                ):
                    return f"describes clients or the company ({cue.text!r}), not the intern"
            if cue.kind.startswith("justification:"):
                name = cue.kind.split(":", 1)[1]
                if name not in policy.justification:
                    continue
                if _near_sentence(doc, sent, cue, wide=name in _WIDE_JUSTIFICATIONS):
                    return f"objective justification ({name.replace('_', ' ')}: {cue.text!r})"
        return None


_LIST_BREAKS = {",", ";", ":", "en", "and", "dus", "so", "of", "or", "(", ")", "-", "–"}


def _separated(doc: Doc, start: int, end: int) -> bool:
    """Whether a comma or a coordinating word stands between two token positions.

    "zonder kinderen en liefst wat jonger": the negation belongs to the first item only.
    """
    return any(token.lower_ in _LIST_BREAKS for token in doc[start:end])


def _near_sentence(doc: Doc, sent: Span, cue: _Cue, wide: bool) -> bool:
    """Whether a cue stands in the sentence, or (wide) in the one before or after it."""
    if sent.start <= cue.start < sent.end:
        return True
    if not wide:
        return False
    before = doc[sent.start - 1].sent if sent.start > 0 else None
    after = doc[sent.end].sent if sent.end < len(doc) else None
    return any(s is not None and s.start <= cue.start < s.end for s in (before, after))
