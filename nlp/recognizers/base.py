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

    @classmethod
    def matched(
        cls,
        start: int,
        end: int,
        ground: Ground,
        severity: Severity,
        rule_id: str,
        lang: str,
        score: float,
        policy: ContextPolicy,
        detail: str,
        weak: bool = False,
    ) -> Candidate:
        """A new candidate whose trace opens with the match that proposed it."""
        return cls(
            start=start,
            end=end,
            ground=ground,
            severity=severity,
            rule_id=rule_id,
            lang=lang,
            score=score,
            policy=policy,
            weak=weak,
            steps=[TraceStep(step="match", detail=detail, score_after=score)],
        )

    @property
    def live(self) -> bool:
        """A kept rule candidate that can be a finding: not a mention, not advisory."""
        return self.kept and not self.weak and self.severity is not Severity.ADVISORY

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
