"""Statistics as spreadsheets: CSV of one grouping, and an XLSX workbook of all of them.

Cells that a spreadsheet would run as a formula (a company name starting with `=`, `+`, `-`
or `@`) get a leading apostrophe: the names come from callers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.store.models import Record
from service.store.records import VERDICTS, StatsGroup, Tally

STATS_COLUMNS = ("key", "label", "records", *VERDICTS, "findings")
RECORD_COLUMNS = (
    "id",
    "created_at",
    "organisation",
    "kind",
    "lang",
    "verdict",
    "risk",
    "grounds",
    "findings",
    "company_kvk",
    "company_name",
    "company_location",
    "reference",
    "status",
    "updated_at",
)


_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def safe_cell(value: Any) -> Any:
    """A value that a spreadsheet shows as text and never evaluates.

    Control characters and lone surrogates, which XML (XLSX) cannot hold, become U+FFFD:
    records kept before the API refused them must still export.
    """
    if not isinstance(value, str):
        return value
    value = _UNWRITABLE.sub("\ufffd", value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def stats_rows(groups: Sequence[StatsGroup]) -> list[list[Any]]:
    """One row per group, in STATS_COLUMNS order."""
    return [
        [
            safe_cell(g.key),
            safe_cell(g.label),
            g.tally.records,
            *(g.tally.verdicts[v] for v in VERDICTS),
            g.tally.findings,
        ]
        for g in groups
    ]


def record_rows(records: Sequence[Record]) -> list[list[Any]]:
    """One row per record, in RECORD_COLUMNS order; never the text."""
    return [
        [
            r.id,
            r.created_at.replace(tzinfo=None),
            safe_cell(r.organisation.name),
            r.kind,
            r.lang,
            r.verdict,
            r.risk,
            " ".join(sorted({f.ground for f in r.findings})),
            len(r.findings),
            r.company_kvk,
            safe_cell(r.company_name),
            safe_cell(r.company_location),
            safe_cell(r.reference),
            r.status,
            r.updated_at.replace(tzinfo=None),
        ]
        for r in records
    ]


def stats_csv(groups: Sequence[StatsGroup], total: Tally) -> bytes:
    """The statistics of one grouping as UTF-8 CSV, with a total row last."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATS_COLUMNS)
    writer.writerows(stats_rows(groups))
    writer.writerow(
        ["total", None, total.records, *(total.verdicts[v] for v in VERDICTS), total.findings]
    )
    return buffer.getvalue().encode("utf-8")


def stats_workbook(
    about: Sequence[tuple[str, Any]],
    groupings: dict[str, tuple[Tally, list[StatsGroup]]],
    records: Sequence[Record],
) -> bytes:
    """An XLSX workbook: a sheet `about`, one sheet per grouping, and one of the records."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "about"
    for label, value in about:
        sheet.append([label, safe_cell(value)])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 40
    bold = Font(bold=True)
    for name, (total, groups) in groupings.items():
        sheet = workbook.create_sheet(title=name)
        sheet.append(list(STATS_COLUMNS))
        for values in stats_rows(groups):
            sheet.append(values)
        sheet.append(
            ["total", None, total.records, *(total.verdicts[v] for v in VERDICTS), total.findings]
        )
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
    sheet = workbook.create_sheet(title="records")
    sheet.append(list(RECORD_COLUMNS))
    for values in record_rows(records):
        sheet.append(values)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_filename(scope: str, start: datetime | None, end: datetime | None, ext: str) -> str:
    """`stagecheck-stats-<scope>-<from>-<to>.<ext>`, safe for a Content-Disposition header."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in scope.lower()).strip("-") or "scope"
    period = f"{start:%Y%m%d}" if start else "begin"
    period += f"-{end:%Y%m%d}" if end else "-now"
    return f"stagecheck-stats-{slug[:60]}-{period}.{ext}"


# -- batch results (the Batch page) ----------------------------------------------------------

BATCH_COLUMNS = (
    "rij",
    "id",
    "soort",
    "taal",
    "oordeel",
    "risico",
    "gronden",
    "bevindingen",
    "citaten (geredigeerd)",
    "fout",
)


def batch_rows(results: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """One row per batch result, in BATCH_COLUMNS order; quotes are the redacted ones."""
    return [
        [
            r["row"],
            safe_cell(r.get("id")),
            r.get("kind"),
            r.get("lang"),
            r.get("verdict"),
            r.get("risk"),
            " ".join(r.get("grounds", [])),
            len(r.get("findings", [])),
            safe_cell(" | ".join(f"{f['ground']}: {f['quote']}" for f in r.get("findings", []))),
            safe_cell(r.get("error")),
        ]
        for r in results
    ]


def batch_csv(results: Sequence[dict[str, Any]]) -> bytes:
    """Batch results as UTF-8 CSV with a byte-order mark, so Excel reads the accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(BATCH_COLUMNS)
    writer.writerows(batch_rows(results))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def batch_workbook(results: Sequence[dict[str, Any]], about: Sequence[tuple[str, Any]]) -> bytes:
    """Batch results as an XLSX workbook: a sheet `resultaten` in input order, and `over`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "resultaten"
    sheet.append(list(BATCH_COLUMNS))
    for values in batch_rows(results):
        sheet.append(values)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJ", (6, 18, 10, 6, 10, 8, 28, 12, 60, 40), strict=True):
        sheet.column_dimensions[column].width = width
    info = workbook.create_sheet(title="over")
    for label, value in about:
        info.append([label, safe_cell(value)])
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
