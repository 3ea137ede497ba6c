"""The annotated corpus: record schema, loading and consistency checks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

GROUNDS = (
    "age",
    "gender",
    "origin",
    "nationality",
    "religion",
    "disability",
    "sexual_orientation",
    "marital_status",
    "political",
    "appearance",
    "unspecified",
)
HARD_NEGATIVE_CATEGORIES = (
    "inclusive_statement",
    "job_requirement",
    "preference_policy",
    "neutral_rejection",
    "description",
    "negation_quote",
)
CATEGORIES = ("discriminatory", "advisory", "neutral", *HARD_NEGATIVE_CATEGORIES)

GroundCode = Literal[
    "age",
    "gender",
    "origin",
    "nationality",
    "religion",
    "disability",
    "sexual_orientation",
    "marital_status",
    "political",
    "appearance",
    "unspecified",
]


class GoldFinding(BaseModel):
    """One annotated finding: the phrase at issue, its ground and severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quote: str = Field(min_length=1)
    ground: GroundCode
    severity: Literal["explicit", "implicit", "advisory"]


def verdict_for(severities: Iterable[str]) -> str:
    """The document verdict the annotation guide derives from finding severities."""
    found = set(severities)
    if "explicit" in found:
        return "reject"
    if "implicit" in found:
        return "review"
    return "ok"


class CorpusRecord(BaseModel):
    """One annotated text of `training_data/`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: Literal["vacancy", "rejection"]
    lang: Literal["nl", "en"]
    text: str = Field(min_length=1)
    verdict: Literal["reject", "review", "ok"]
    category: Literal[
        "discriminatory",
        "advisory",
        "neutral",
        "inclusive_statement",
        "job_requirement",
        "preference_policy",
        "neutral_rejection",
        "description",
        "negation_quote",
    ]
    findings: list[GoldFinding] = Field(default_factory=list)
    unit: Literal["document", "sentence"] = "document"
    content_type: Literal["text/plain", "text/html"] = "text/plain"
    sector: str | None = None
    mixed: bool = False
    split: Literal["train", "dev", "test"] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CorpusRecord:
        for finding in self.findings:
            if finding.quote not in self.text:
                raise ValueError(f"quote {finding.quote!r} does not occur in the text")
        expected = verdict_for(f.severity for f in self.findings)
        if self.verdict != expected:
            raise ValueError(
                f"verdict {self.verdict!r} contradicts its findings (they imply {expected!r})"
            )
        flagged = expected != "ok"
        if flagged and self.category != "discriminatory":
            raise ValueError(f"category {self.category!r} on a flagged text; use 'discriminatory'")
        if not flagged and self.category == "discriminatory":
            raise ValueError(
                "category 'discriminatory' on a text without explicit or implicit findings"
            )
        if self.category == "advisory" and not self.findings:
            raise ValueError("category 'advisory' needs at least one advisory finding")
        return self


class CorpusError(Exception):
    """A corpus file cannot be read or holds an invalid record."""


def iter_records(path: Path) -> Iterator[tuple[int, CorpusRecord]]:
    """Yield (line number, record) from a JSONL corpus file; raise CorpusError on the first bad line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, CorpusRecord.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise CorpusError(f"{path}:{number}: {exc}") from exc


def validate_file(path: Path) -> list[str]:
    """All problems of one corpus file, one message per bad line."""
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                CorpusRecord.model_validate(json.loads(line))
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON: {exc}")
            except ValidationError as exc:
                messages = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
                    for err in exc.errors()
                )
                problems.append(f"{path}:{number}: {messages}")
    return problems


if __name__ == "__main__":  # pragma: no cover - authoring aid
    bad = [p for arg in sys.argv[1:] for p in validate_file(Path(arg))]
    print("\n".join(bad) or "ok")
    sys.exit(1 if bad else 0)
