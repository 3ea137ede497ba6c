"""The analysis object of `contract.md`, defined once and reused by every interface."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer


class Ground(StrEnum):
    """A ground of the annotation guide."""

    AGE = "age"
    GENDER = "gender"
    ORIGIN = "origin"
    NATIONALITY = "nationality"
    RELIGION = "religion"
    DISABILITY = "disability"
    SEXUAL_ORIENTATION = "sexual_orientation"
    MARITAL_STATUS = "marital_status"
    POLITICAL = "political"
    APPEARANCE = "appearance"
    UNSPECIFIED = "unspecified"


class Severity(StrEnum):
    """How directly a phrase excludes: explicit, implicit or advisory."""

    EXPLICIT = "explicit"
    IMPLICIT = "implicit"
    ADVISORY = "advisory"


class Verdict(StrEnum):
    """The document verdict: reject (afkeuren), review (beoordelen) or ok (akkoord)."""

    REJECT = "reject"
    REVIEW = "review"
    OK = "ok"


class Kind(StrEnum):
    """What the text is: an internship vacancy or an employer's message to a student."""

    VACANCY = "vacancy"
    REJECTION = "rejection"


VERDICT_LABELS_NL = {
    Verdict.REJECT: "afkeuren",
    Verdict.REVIEW: "beoordelen",
    Verdict.OK: "akkoord",
}

SEVERITY_RANK = {Severity.EXPLICIT: 2, Severity.IMPLICIT: 1, Severity.ADVISORY: 0}


def verdict_from_severities(severities: list[Severity]) -> Verdict:
    """The verdict follows the worst finding, as the annotation guide says."""
    if Severity.EXPLICIT in severities:
        return Verdict.REJECT
    if Severity.IMPLICIT in severities:
        return Verdict.REVIEW
    return Verdict.OK


class TraceStep(BaseModel):
    """One decision about a candidate: which pattern fired, which cue changed it."""

    model_config = ConfigDict(frozen=True)

    step: str = Field(description="match, context, model or result")
    detail: str
    score_before: float | None = None
    score_after: float | None = None


class CandidateTrace(BaseModel):
    """The decision trace of one candidate phrase, kept or dropped."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    ground: Ground
    severity: Severity
    start: int
    end: int
    quote: str
    kept: bool
    steps: list[TraceStep]


class Finding(BaseModel):
    """One phrase at issue, with its ground, severity and the words to explain it."""

    model_config = ConfigDict(frozen=True)

    ground: Ground
    severity: Severity
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    quote: str
    score: float = Field(ge=0.0, le=1.0)
    source: str = Field(pattern="^(rule|model)$")
    explanation: str
    legal_basis: str
    suggestion: str | None = None
    rule_id: str | None = Field(
        default=None, description="the lexicon entry or recognizer that produced it"
    )


class Analysis(BaseModel):
    """The result of analysing one text; the same object on every interface."""

    model_config = ConfigDict(frozen=True)

    id: str | None = None
    kind: Kind
    lang: str = Field(pattern="^(nl|en)$")
    verdict: Verdict
    risk: float = Field(ge=0.0, le=1.0)
    findings: list[Finding]
    model_version: str
    text: str | None = Field(default=None, description="the extracted plain text (HTML input)")
    trace: list[CandidateTrace] | None = Field(
        default=None, description="the decision trace, when asked for with explain"
    )

    @model_serializer(mode="wrap")
    def _drop_absent_extras(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("text", "trace"):
            if data.get(key) is None:
                data.pop(key, None)
        return data
