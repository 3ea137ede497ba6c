"""The contract every recognizer keeps: a spaCy Doc in, candidate findings out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from spacy.tokens import Doc

from nlp.lexicon import ContextPolicy
from nlp.schema import Ground, Kind, Severity, TraceStep

BASE_SCORE = {Severity.EXPLICIT: 0.95, Severity.IMPLICIT: 0.8, Severity.ADVISORY: 0.5}


@dataclass
class Candidate:
    """A phrase a recognizer proposes as a finding, before context and model decide.

    `start` and `end` are character offsets into the Doc the recognizer was given. A `weak`
    candidate (a mention of a characteristic) is a finding only if the model confirms it.
    """

    start: int
    end: int
    ground: Ground
    severity: Severity
    rule_id: str
    lang: str
    score: float
    policy: ContextPolicy
    steps: list[TraceStep] = field(default_factory=list)
    kept: bool = True
    source: str = "rule"
    weak: bool = False

    def drop(self, step: str, detail: str) -> None:
        """Mark the candidate dropped, with the step that decided it and why in its trace."""
        self.steps.append(
            TraceStep(step=step, detail=detail, score_before=self.score, score_after=0.0)
        )
        self.kept = False

    def rescore(self, step: str, detail: str, score: float) -> None:
        """Set the candidate's score, recording the step, why, and the score before and after."""
        self.steps.append(
            TraceStep(step=step, detail=detail, score_before=self.score, score_after=score)
        )
        self.score = score

    def shifted(self, offset: int) -> Candidate:
        """The same candidate with offsets moved by `offset` characters."""
        self.start += offset
        self.end += offset
        return self


class Recognizer(Protocol):
    """Finds candidate findings in a processed text."""

    name: str

    def analyze(self, doc: Doc, kind: Kind) -> list[Candidate]:
        """Candidates in `doc` for a text of this kind."""
        ...
