"""Figures of the Overzicht and Bedrijven pages, from the records store.

Data access lives in service.store.records (record_stats, company_overview); this module
shapes its results into the rows the pages draw as a data table and a chart, with Dutch
labels, so that the table and the chart always show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from service.store.records import CompanyOverview, Scope, StatsGroup, Tally, record_stats
from service.web.render import KIND_LABELS

MONTHS_NL = (
    "jan",
    "feb",
    "mrt",
    "apr",
    "mei",
    "jun",
    "jul",
    "aug",
    "sep",
    "okt",
    "nov",
    "dec",
)


def month_label(key: str | None) -> str:
    """`2026-03` as `mrt 2026`."""
    if not key or len(key) != 7:
        return key or "onbekend"
    year, month = key.split("-")
    return f"{MONTHS_NL[int(month) - 1]} {year}"


def share(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, one decimal; None when there is nothing to divide."""
    return None if whole == 0 else round(100 * part / whole, 1)


@dataclass(frozen=True)
class FigureRow:
    """One row of a figures table: its key, Dutch label and counts."""

    key: str | None
    label: str
    records: int
    reject: int
    review: int
    ok: int
    findings: int

    @property
    def reject_share(self) -> float | None:
        """Share of the records that were rejected, in percent."""
        return share(self.reject, self.records)


def row_of(group: StatsGroup, label: str) -> FigureRow:
    """A table row from one group of record_stats."""
    tally = group.tally
    return FigureRow(
        key=group.key,
        label=label,
        records=tally.records,
        reject=tally.verdicts["reject"],
        review=tally.verdicts["review"],
        ok=tally.verdicts["ok"],
        findings=tally.findings,
    )


@dataclass(frozen=True)
class Figures:
    """The Overzicht: totals, and rows per month, ground and kind."""

    total: Tally
    months: list[FigureRow]
    grounds: list[FigureRow]
    kinds: list[FigureRow]

    @property
    def reject_share(self) -> float | None:
        """Share of all records that were rejected, in percent."""
        return share(self.total.verdicts["reject"], self.total.records)


def overview_figures(
    session: Session,
    scope: Scope,
    ground_labels: dict[str, str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> Figures:
    """The figures of the records in `scope` made between `start` and `end`."""
    total, months = record_stats(session, scope, "month", start, end)
    _, grounds = record_stats(session, scope, "ground", start, end)
    _, kinds = record_stats(session, scope, "kind", start, end)
    return Figures(
        total=total,
        months=[row_of(g, month_label(g.key)) for g in months],
        grounds=[row_of(g, ground_labels.get(g.key or "", g.key or "onbekend")) for g in grounds],
        kinds=[row_of(g, KIND_LABELS.get(g.key or "", g.key or "onbekend")) for g in kinds],
    )


@dataclass(frozen=True)
class CompanyFigures:
    """A company page's figures: records per month by verdict, records per ground."""

    months: list[FigureRow]
    grounds: list[tuple[str, str, int]]


def company_figures(found: CompanyOverview, ground_labels: dict[str, str]) -> CompanyFigures:
    """The rows of a company's charts: per month (verdicts, findings) and per ground."""
    months = [
        FigureRow(
            key=month,
            label=month_label(month),
            records=tally.records,
            reject=tally.verdicts["reject"],
            review=tally.verdicts["review"],
            ok=tally.verdicts["ok"],
            findings=tally.findings,
        )
        for month, tally in found.by_month.items()
    ]
    grounds = [
        (ground, ground_labels.get(ground, ground), records)
        for ground, records in found.by_ground.items()
    ]
    return CompanyFigures(months=months, grounds=grounds)
