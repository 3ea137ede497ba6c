"""From an analysed request to a record that may be written: redact, then re-point offsets.

The caller gets the analysis of the text it sent. The record keeps the same analysis, but
over the text with personal data redacted (service.redaction): every finding's `start` and
`end` are carried into the redacted text and its `quote` re-read from there, so
`text[start:end] == quote` holds for what is stored. The decision trace and the extracted
HTML text are not kept. Nothing here writes: the unredacted text never leaves memory.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from nlp.schema import Analysis
from service.redaction import Redaction, redact
from service.schemas import AnalyzeRequest
from service.store.records import NewRecord


def redacted_analysis(analysis: Analysis, redaction: Redaction) -> dict[str, Any]:
    """The analysis as stored: findings pointing into `redaction.text`, no trace, no text."""
    findings = []
    for finding in analysis.findings:
        start, end = redaction.map_span(finding.start, finding.end)
        findings.append(
            finding.model_copy(
                update={"start": start, "end": end, "quote": redaction.text[start:end]}
            )
        )
    stored = analysis.model_copy(update={"findings": findings, "trace": None, "text": None})
    return stored.model_dump(mode="json")


def analysed_text(item: AnalyzeRequest, analysis: Analysis) -> str:
    """The text the analysis's offsets point into: the extracted text for HTML input."""
    return analysis.text if analysis.text is not None else item.text


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with lone surrogates (valid in JSON, not in UTF-8) as U+FFFD, one for one.

    Neither SQLite nor PostgreSQL can store them; the analysis handles them, so the record
    keeps the text with the same length and offsets.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


def new_record(item: AnalyzeRequest, analysis: Analysis, organisation_id: int) -> NewRecord:
    """The record to keep for one stored analysis, with personal data redacted."""
    redaction = redact(analysed_text(item, analysis))
    redaction = dataclasses.replace(redaction, text=storable(redaction.text))
    company = item.company
    return NewRecord(
        organisation_id=organisation_id,
        text=redaction.text,
        analysis=redacted_analysis(analysis, redaction),
        redactions=redaction.counts,
        external_id=item.id,
        reference=item.reference,
        company_kvk=company.kvk if company else None,
        company_name=company.name if company else None,
        company_location=company.location if company else None,
    )
