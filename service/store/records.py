"""Records: kept screenings, their follow-up and feedback, companies, statistics, retention.

Data access only, free of HTTP. Every read goes through a `Scope`, so a query cannot reach
another organisation's records by accident: an officer's scope is its own organisation, the
role `sbb` sees every organisation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, delete, distinct, exists, func, select
from sqlalchemy.orm import Session, defer, selectinload

from service.store.models import (
    Feedback,
    Organisation,
    Record,
    RecordEvent,
    RecordFinding,
    utcnow,
)

VERDICTS = ("reject", "review", "ok")
GROUPINGS = ("ground", "month", "kind", "verdict", "company")

S = TypeVar("S", bound=Select)


@dataclass(frozen=True)
class Scope:
    """Whose records a caller sees: one organisation, or every one (`organisation_id` None)."""

    organisation_id: int | None

    def apply(self, query: S) -> S:
        """Restrict a query over `records` to this scope."""
        if self.organisation_id is None:
            return query
        return query.where(Record.organisation_id == self.organisation_id)

    def contains(self, record: Record) -> bool:
        """Whether `record` is in this scope."""
        return self.organisation_id is None or record.organisation_id == self.organisation_id


@dataclass(frozen=True)
class Actor:
    """Who changes something: the key, and a label that stays readable in the history."""

    key_id: int | None
    label: str


@dataclass(frozen=True)
class NewRecord:
    """What a stored screening keeps; `text` is already redacted, `analysis` points into it."""

    organisation_id: int
    text: str
    analysis: dict[str, Any]
    redactions: dict[str, int]
    external_id: str | None = None
    reference: str | None = None
    company_kvk: str | None = None
    company_name: str | None = None
    company_location: str | None = None


def add_records(
    session: Session, items: Sequence[NewRecord], actor: Actor, now: datetime | None = None
) -> list[str]:
    """Store records in one transaction (all or none); returns their ids in order."""
    moment = now or utcnow()
    ids = []
    for item in items:
        analysis = item.analysis
        record = Record(
            id=str(uuid.uuid4()),
            organisation_id=item.organisation_id,
            created_at=moment,
            created_by_key_id=actor.key_id,
            kind=str(analysis["kind"]),
            lang=str(analysis["lang"]),
            verdict=str(analysis["verdict"]),
            risk=float(analysis["risk"]),
            model_version=str(analysis["model_version"]),
            text=item.text,
            analysis=analysis,
            redactions=item.redactions,
            external_id=item.external_id,
            reference=item.reference,
            company_kvk=item.company_kvk,
            company_name=item.company_name,
            company_location=item.company_location,
            status="open",
            updated_at=moment,
        )
        record.findings = [
            RecordFinding(position=position, ground=f["ground"], severity=f["severity"])
            for position, f in enumerate(analysis["findings"])
        ]
        record.events = [
            RecordEvent(
                at=moment, key_id=actor.key_id, actor=actor.label, action="created", status="open"
            )
        ]
        session.add(record)
        ids.append(record.id)
    session.commit()
    return ids


def get_record(session: Session, scope: Scope, record_id: str) -> Record | None:
    """The record with this id if the scope holds it; None otherwise (absent or not visible)."""
    query = scope.apply(select(Record).where(Record.id == record_id)).options(
        selectinload(Record.findings),
        selectinload(Record.events),
        selectinload(Record.feedback),
    )
    return session.scalar(query)


@dataclass(frozen=True)
class RecordFilter:
    """The filters of GET /v1/records; None leaves a filter out."""

    status: str | None = None
    ground: str | None = None
    kind: str | None = None
    verdict: str | None = None
    company: str | None = None
    organisation: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _in_period(query: S, start: datetime | None, end: datetime | None) -> S:
    if start is not None:
        query = query.where(Record.created_at >= start)
    if end is not None:
        query = query.where(Record.created_at < end)
    return query


def _filtered(scope: Scope, filters: RecordFilter) -> Select[Any]:
    query = scope.apply(select(Record))
    if filters.status:
        query = query.where(Record.status == filters.status)
    if filters.kind:
        query = query.where(Record.kind == filters.kind)
    if filters.verdict:
        query = query.where(Record.verdict == filters.verdict)
    if filters.ground:
        query = query.where(
            exists().where(
                RecordFinding.record_id == Record.id, RecordFinding.ground == filters.ground
            )
        )
    if filters.company:
        company = filters.company.strip()
        if company.isdigit() and len(company) == 8:
            query = query.where(Record.company_kvk == company)
        else:
            query = query.where(Record.company_name.ilike(_like(company), escape="\\"))
    if filters.organisation:
        query = query.where(
            Record.organisation_id.in_(
                select(Organisation.id).where(
                    func.lower(Organisation.name) == filters.organisation.strip().lower()
                )
            )
        )
    return _in_period(query, filters.start, filters.end)


def list_records(
    session: Session, scope: Scope, filters: RecordFilter, limit: int, offset: int
) -> tuple[int, list[Record]]:
    """How many records match, and one page of them, newest first (without their texts)."""
    query = _filtered(scope, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(Record.created_at.desc(), Record.id)
        .limit(limit)
        .offset(offset)
        .options(defer(Record.text), defer(Record.analysis), selectinload(Record.findings))
    )
    return int(total), list(page)


def update_record(
    session: Session,
    record: Record,
    actor: Actor,
    status: str | None,
    note: str | None,
    now: datetime | None = None,
) -> RecordEvent:
    """Change the status and/or note of a record and add the change to its history."""
    moment = now or utcnow()
    before = record.status
    if status is not None:
        record.status = status
    if note is not None:
        record.note = note
    record.updated_at = moment
    event = RecordEvent(
        at=moment,
        key_id=actor.key_id,
        actor=actor.label,
        action="updated",
        status_before=before,
        status=record.status,
        note=note,
    )
    record.events.append(event)
    session.commit()
    return event


@dataclass(frozen=True)
class FindingJudgement:
    """An officer's judgement of finding number `index` of a record."""

    index: int
    assessment: str
    comment: str | None = None


@dataclass(frozen=True)
class MissedPhrase:
    """A phrase the analysis should have flagged; `quote` occurs in the record's text."""

    quote: str
    ground: str
    severity: str
    comment: str | None = None


def add_feedback(
    session: Session,
    record: Record,
    actor: Actor,
    judgements: Sequence[FindingJudgement],
    missed: Sequence[MissedPhrase],
    now: datetime | None = None,
) -> list[Feedback]:
    """Keep an officer's feedback on a record; returns the new rows."""
    moment = now or utcnow()
    rows = [
        Feedback(
            at=moment,
            key_id=actor.key_id,
            actor=actor.label,
            finding_index=j.index,
            assessment=j.assessment,
            comment=j.comment,
        )
        for j in judgements
    ] + [
        Feedback(
            at=moment,
            key_id=actor.key_id,
            actor=actor.label,
            comment=m.comment,
            missed_quote=m.quote,
            missed_ground=m.ground,
            missed_severity=m.severity,
        )
        for m in missed
    ]
    record.feedback.extend(rows)
    record.updated_at = moment
    session.commit()
    return rows


def delete_record(session: Session, record: Record) -> None:
    """Delete a record with its findings, history and feedback."""
    session.delete(record)
    session.commit()


def purge_records(session: Session, before: datetime) -> int:
    """Delete every record made before `before`; returns how many were deleted."""
    result = session.execute(delete(Record).where(Record.created_at < before))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# -- companies and statistics ---------------------------------------------------------------


def month_of(session: Session, column: Any) -> ColumnElement[str]:
    """`YYYY-MM` of a timestamp column, in the database's own dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


@dataclass
class Tally:
    """Counts of one group: records, their verdicts, and findings."""

    records: int = 0
    verdicts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    findings: int = 0


@dataclass
class CompanyOverview:
    """What a caller's scope knows about one company (KvK number)."""

    kvk: str
    names: list[tuple[str, int, datetime]]
    locations: list[str]
    total: Tally
    by_ground: dict[str, int]
    by_month: dict[str, Tally]
    by_month_ground: dict[str, dict[str, int]]
    first_screening: datetime
    last_screening: datetime
    records: list[Record]


def company_overview(
    session: Session, scope: Scope, kvk: str, recent: int = 50
) -> CompanyOverview | None:
    """Names, counts by verdict and by ground per month, and the records, of one company."""
    company = scope.apply(select(Record.id).where(Record.company_kvk == kvk)).subquery()
    in_company = Record.id.in_(select(company.c.id))
    bounds = session.execute(
        select(func.count(), func.min(Record.created_at), func.max(Record.created_at)).where(
            in_company
        )
    ).one()
    if not bounds[0]:
        return None
    names = [
        (str(name), int(count), last)
        for name, count, last in session.execute(
            select(Record.company_name, func.count(), func.max(Record.created_at))
            .where(in_company, Record.company_name.is_not(None))
            .group_by(Record.company_name)
            .order_by(func.max(Record.created_at).desc())
        )
    ]
    locations = [
        str(location)
        for (location,) in session.execute(
            select(Record.company_location)
            .where(in_company, Record.company_location.is_not(None))
            .group_by(Record.company_location)
            .order_by(func.max(Record.created_at).desc())
        )
    ]
    month = month_of(session, Record.created_at)
    total = Tally()
    by_month: dict[str, Tally] = {}
    for key, verdict, count in session.execute(
        select(month, Record.verdict, func.count())
        .where(in_company)
        .group_by(month, Record.verdict)
    ):
        tally = by_month.setdefault(str(key), Tally())
        tally.records += int(count)
        tally.verdicts[str(verdict)] = int(count)
        total.records += int(count)
        total.verdicts[str(verdict)] += int(count)
    by_month_ground: dict[str, dict[str, int]] = defaultdict(dict)
    by_ground: dict[str, int] = defaultdict(int)
    for key, ground, records, findings in session.execute(
        select(month, RecordFinding.ground, func.count(distinct(Record.id)), func.count())
        .select_from(Record)
        .join(RecordFinding, RecordFinding.record_id == Record.id)
        .where(in_company)
        .group_by(month, RecordFinding.ground)
    ):
        by_month_ground[str(key)][str(ground)] = int(records)
        by_month[str(key)].findings += int(findings)
        total.findings += int(findings)
    for ground, records in session.execute(
        select(RecordFinding.ground, func.count(distinct(Record.id)))
        .select_from(Record)
        .join(RecordFinding, RecordFinding.record_id == Record.id)
        .where(in_company)
        .group_by(RecordFinding.ground)
    ):
        by_ground[str(ground)] = int(records)
    latest = list(
        session.scalars(
            select(Record)
            .where(in_company)
            .order_by(Record.created_at.desc(), Record.id)
            .limit(recent)
            .options(defer(Record.text), defer(Record.analysis), selectinload(Record.findings))
        )
    )
    return CompanyOverview(
        kvk=kvk,
        names=names,
        locations=locations,
        total=total,
        by_ground=dict(sorted(by_ground.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_month=dict(sorted(by_month.items())),
        by_month_ground={k: dict(sorted(v.items())) for k, v in sorted(by_month_ground.items())},
        first_screening=bounds[1],
        last_screening=bounds[2],
        records=latest,
    )


@dataclass(frozen=True)
class CompanyHit:
    """A company in a search: its KvK number, latest name, records and last screening."""

    kvk: str
    name: str | None
    records: int
    last_screening: datetime


def search_companies(
    session: Session, scope: Scope, q: str | None, limit: int = 50
) -> list[CompanyHit]:
    """Companies in scope whose KvK number starts with, or any name contains, `q`."""
    query = scope.apply(
        select(Record.company_kvk, func.count(), func.max(Record.created_at))
    ).where(Record.company_kvk.is_not(None))
    term = (q or "").strip()
    if term:
        if term.isdigit():
            query = query.where(Record.company_kvk.startswith(term, autoescape=True))
        else:
            named = scope.apply(
                select(Record.company_kvk).where(
                    Record.company_name.ilike(_like(term), escape="\\")
                )
            )
            query = query.where(Record.company_kvk.in_(named))
    rows = session.execute(
        query.group_by(Record.company_kvk)
        .order_by(func.max(Record.created_at).desc(), Record.company_kvk)
        .limit(limit)
    ).all()
    kvks = [str(kvk) for kvk, _, _ in rows]
    latest_name: dict[str, str] = {}
    if kvks:
        for kvk, name in session.execute(
            scope.apply(select(Record.company_kvk, Record.company_name))
            .where(Record.company_kvk.in_(kvks), Record.company_name.is_not(None))
            .order_by(Record.created_at.desc())
        ):
            latest_name.setdefault(str(kvk), str(name))
    return [
        CompanyHit(
            kvk=str(kvk), name=latest_name.get(str(kvk)), records=int(n), last_screening=last
        )
        for kvk, n, last in rows
    ]


@dataclass
class StatsGroup:
    """One row of the statistics: the group's key, a label, and its tally."""

    key: str | None
    label: str | None
    tally: Tally


def record_stats(
    session: Session,
    scope: Scope,
    group_by: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[Tally, list[StatsGroup]]:
    """Records in scope and period, in total and per group.

    Per ground, `records` counts the records with at least one finding of that ground; for
    every other grouping each record counts once.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    base = _in_period(scope.apply(select(Record.id)), start, end).subquery()
    in_scope = Record.id.in_(select(base.c.id))
    total = Tally()
    for verdict, count in session.execute(
        select(Record.verdict, func.count()).where(in_scope).group_by(Record.verdict)
    ):
        total.verdicts[str(verdict)] = int(count)
        total.records += int(count)
    total.findings = int(
        session.scalar(
            select(func.count())
            .select_from(RecordFinding)
            .join(Record, RecordFinding.record_id == Record.id)
            .where(in_scope)
        )
        or 0
    )
    key: Any = {
        "ground": RecordFinding.ground,
        "month": month_of(session, Record.created_at),
        "kind": Record.kind,
        "verdict": Record.verdict,
        "company": Record.company_kvk,
    }[group_by]
    query: Select[Any] = select(
        key, Record.verdict, func.count(distinct(Record.id)), func.count(RecordFinding.id)
    )
    if group_by == "ground":
        query = query.select_from(Record).join(RecordFinding, RecordFinding.record_id == Record.id)
    else:
        query = query.select_from(Record).outerjoin(
            RecordFinding, RecordFinding.record_id == Record.id
        )
    groups: dict[str | None, Tally] = {}
    rows: Any = session.execute(query.where(in_scope).group_by(key, Record.verdict))
    for value, verdict, records, findings in rows:
        name = None if value is None else str(value)
        tally = groups.setdefault(name, Tally())
        tally.records += int(records)
        tally.verdicts[str(verdict)] += int(records)
        tally.findings += int(findings)
    labels: dict[str | None, str | None] = {}
    if group_by == "company":
        for kvk, company_name in session.execute(
            select(Record.company_kvk, Record.company_name)
            .where(in_scope, Record.company_kvk.is_not(None))
            .order_by(Record.created_at)
        ):
            labels[str(kvk)] = company_name
    if group_by == "month":
        ordered = sorted(groups.items(), key=lambda kv: kv[0] or "")
    else:
        ordered = sorted(groups.items(), key=lambda kv: (-kv[1].records, kv[0] or "\uffff"))
    return total, [StatsGroup(key=k, label=labels.get(k), tally=t) for k, t in ordered]


def records_for_export(
    session: Session,
    scope: Scope,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100_000,
) -> list[Record]:
    """Records in scope and period for a spreadsheet, oldest first, without their texts."""
    query = _in_period(scope.apply(select(Record)), start, end)
    return list(
        session.scalars(
            query.order_by(Record.created_at, Record.id)
            .limit(limit)
            .options(defer(Record.text), defer(Record.analysis), selectinload(Record.findings))
        )
    )


# -- feedback as training data ---------------------------------------------------------------


def feedback_corpus(
    session: Session, organisation_id: int | None = None, since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Records with feedback as corpus records in the `training_data/` format.

    The findings are the record's own, less those an officer marked incorrect (the latest
    judgement of a finding counts), plus the phrases officers said were missed. The verdict
    and category follow from them as the annotation guide says. `split` is left out: the
    records are for review before they join the corpus.
    """
    from models.corpus import verdict_for

    query = select(Record).where(exists().where(Feedback.record_id == Record.id))
    if organisation_id is not None:
        query = query.where(Record.organisation_id == organisation_id)
    if since is not None:
        query = query.where(Record.created_at >= since)
    query = query.order_by(Record.created_at, Record.id).options(selectinload(Record.feedback))
    for record in session.scalars(query):
        judged: dict[int, str] = {}
        missed: dict[tuple[str, str], str] = {}
        for row in record.feedback:
            if row.finding_index is not None and row.assessment:
                judged[row.finding_index] = row.assessment
            if row.missed_quote and row.missed_ground:
                missed[(row.missed_quote, row.missed_ground)] = row.missed_severity or "implicit"
        # One finding per (quote, ground); an officer's missed phrase overrides the severity.
        kept: dict[tuple[str, str], str] = {}
        for index, finding in enumerate(record.analysis.get("findings", [])):
            if judged.get(index) != "incorrect":
                kept[(finding["quote"], finding["ground"])] = finding["severity"]
        kept.update(missed)
        unique = [
            {"quote": quote, "ground": ground, "severity": severity}
            for (quote, ground), severity in kept.items()
        ]
        verdict = verdict_for(f["severity"] for f in unique)
        if verdict != "ok":
            category = "discriminatory"
        elif unique:
            category = "advisory"
        else:
            category = "neutral"
        yield {
            "id": f"fb-{record.id}",
            "kind": record.kind,
            "lang": record.lang,
            "text": record.text,
            "verdict": verdict,
            "category": category,
            "findings": unique,
            "unit": "document",
            "content_type": "text/plain",
            "source": "officer-feedback",
        }
