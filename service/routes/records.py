"""The records of an organisation: list, read, follow up, give feedback, delete.

Another organisation's record is answered exactly like a record that does not exist (404),
so an officer cannot learn that it exists. SBB keys read every organisation's records and
change only their own organisation's; deleting needs the role admin.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator, ValidationError
from sqlalchemy.orm import Session

from nlp.schema import Analysis, Ground, Kind, Severity, Verdict
from service.deps import JsonBody, MemberDep, StateDep
from service.openapi_examples import json_examples, request_body
from service.problem import (
    API_KEY_INVALID,
    API_KEY_MISSING,
    FORBIDDEN,
    MALFORMED_JSON,
    NOT_FOUND,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    FieldError,
    ProblemError,
    problem_responses,
    validation_problem,
)
from service.schemas import (
    Company,
    FeedbackIn,
    FeedbackOut,
    MissedPhraseIn,
    RecordDetail,
    RecordEventOut,
    RecordList,
    RecordStatus,
    RecordSummary,
    RecordUpdate,
)
from service.security import Caller
from service.store.models import Record, utcnow
from service.store.records import (
    FindingJudgement,
    MissedPhrase,
    RecordFilter,
    add_feedback,
    delete_record,
    get_record,
    list_records,
    update_record,
)

router = APIRouter(prefix="/v1/records", tags=["records"])

_READ_PROBLEMS = (API_KEY_MISSING, API_KEY_INVALID, FORBIDDEN, RATE_LIMITED, SERVICE_UNAVAILABLE)
_WRITE_PROBLEMS = (
    *_READ_PROBLEMS,
    NOT_FOUND,
    MALFORMED_JSON,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
)


def blank_is_none(value: Any) -> Any:
    """`?from=` (empty) means no bound, as if the parameter were left out."""
    return None if value == "" else value


def period(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Dates `from` and `to` (both inclusive, UTC) as a half-open range of timestamps."""
    begin = datetime.combine(start, time.min) if start else None
    # `to=9999-12-31` has no next day: it bounds nothing.
    stop = datetime.combine(end + timedelta(days=1), time.min) if end and end < date.max else None
    if begin is not None and stop is not None and stop <= begin:
        raise ProblemError(
            VALIDATION_ERROR,
            "`to` lies before `from`",
            errors=[FieldError(field="to", message="must not be before from", type="value_error")],
        )
    return _utc(begin), _utc(stop)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def summary_fields(record: Record) -> dict[str, Any]:
    """The fields of a record's summary."""
    company = (
        Company(kvk=record.company_kvk, name=record.company_name, location=record.company_location)
        if record.company_kvk
        else None
    )
    return {
        "id": record.id,
        "organisation": record.organisation.name,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "kind": record.kind,
        "lang": record.lang,
        "verdict": record.verdict,
        "risk": record.risk,
        "grounds": sorted({f.ground for f in record.findings}),
        "findings": len(record.findings),
        "company": company,
        "reference": record.reference,
        "external_id": record.external_id,
        "status": record.status,
    }


def summary_of(record: Record) -> RecordSummary:
    """A record as it appears in a list."""
    return RecordSummary(**summary_fields(record))


def detail_of(record: Record) -> RecordDetail:
    """A whole record, with history and feedback."""
    feedback = []
    for row in record.feedback:
        missed = None
        if row.missed_quote and row.missed_ground:
            missed = MissedPhraseIn(
                quote=row.missed_quote,
                ground=Ground(row.missed_ground),
                severity=Severity(row.missed_severity or "implicit"),
                comment=row.comment,
            )
        feedback.append(
            FeedbackOut(
                at=row.at,
                by=row.actor,
                finding_index=row.finding_index,
                assessment=row.assessment,  # type: ignore[arg-type]
                comment=row.comment if missed is None else None,
                missed=missed,
            )
        )
    return RecordDetail(
        **summary_fields(record),
        text=record.text,
        analysis=Analysis.model_validate(record.analysis),
        redactions=record.redactions,
        note=record.note,
        history=[
            RecordEventOut(
                at=e.at,
                by=e.actor,
                action=e.action,  # type: ignore[arg-type]
                status_before=e.status_before,  # type: ignore[arg-type]
                status=e.status,  # type: ignore[arg-type]
                note=e.note,
            )
            for e in record.events
        ],
        feedback=feedback,
    )


def visible_record(session: Session, caller: Caller, record_id: str) -> Record:
    """The record if the caller may see it; 404 when it is absent or another school's."""
    record = get_record(session, caller.scope, record_id)
    if record is None:
        raise ProblemError(NOT_FOUND, f"no record {record_id!r}")
    return record


def changeable_record(session: Session, caller: Caller, record_id: str) -> Record:
    """The record if the caller may change it: 404 if unseen, 403 if seen but not its own."""
    record = visible_record(session, caller, record_id)
    if record.organisation_id != caller.organisation_id:
        raise ProblemError(
            FORBIDDEN,
            "SBB keys read every organisation's records but change only their own "
            f"organisation's; this record belongs to {record.organisation.name!r}",
        )
    return record


@router.get(
    "",
    response_model=RecordList,
    summary="List records",
    description="The records the key may see, newest first: its own organisation's, or every "
    "organisation's for the role sbb. Filters combine; `from` and `to` are dates (UTC, both "
    "inclusive); `company` is a KvK number or part of a company name.",
    responses={**json_examples("records"), **problem_responses(*_READ_PROBLEMS, VALIDATION_ERROR)},
)
async def list_(
    state: StateDep,
    caller: MemberDep,
    status: RecordStatus | None = None,
    ground: Ground | None = None,
    kind: Kind | None = None,
    verdict: Verdict | None = None,
    company: Annotated[str | None, Query(max_length=300)] = None,
    organisation: Annotated[
        str | None, Query(max_length=200, description="for sbb keys: one organisation")
    ] = None,
    from_: Annotated[date | None, BeforeValidator(blank_is_none), Query(alias="from")] = None,
    to: Annotated[date | None, BeforeValidator(blank_is_none), Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RecordList:
    """GET /v1/records."""
    start, end = period(from_, to)
    filters = RecordFilter(
        status=status.value if status else None,
        ground=ground.value if ground else None,
        kind=kind.value if kind else None,
        verdict=verdict.value if verdict else None,
        company=company,
        organisation=organisation,
        start=start,
        end=end,
    )

    def run(session: Session) -> RecordList:
        total, records = list_records(session, caller.scope, filters, limit, offset)
        return RecordList(
            total=total, limit=limit, offset=offset, items=[summary_of(r) for r in records]
        )

    return await state.run_db(run)


@router.get(
    "/{record_id}",
    response_model=RecordDetail,
    summary="Read a record",
    description="The redacted text, its analysis (offsets point into that text), the company, "
    "the follow-up history and the feedback.",
    responses={**json_examples("record"), **problem_responses(*_READ_PROBLEMS, NOT_FOUND)},
)
async def read(record_id: str, state: StateDep, caller: MemberDep) -> RecordDetail:
    """GET /v1/records/{record_id}."""
    return await state.run_db(lambda session: detail_of(visible_record(session, caller, record_id)))


def _parse(model: Any, body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_problem(exc) from None


@router.patch(
    "/{record_id}",
    response_model=RecordDetail,
    summary="Follow up a record",
    description="Set the status (`open`, `company_contacted`, `resolved`, `withdrawn`, "
    "`no_action`) and/or the note. Every change joins the record's history with the key "
    "that made it and the time.",
    openapi_extra=request_body("RecordUpdate", "record_update"),
    responses={**json_examples("record_update"), **problem_responses(*_WRITE_PROBLEMS)},
)
async def patch(record_id: str, body: JsonBody, state: StateDep, caller: MemberDep) -> RecordDetail:
    """PATCH /v1/records/{record_id}."""
    change: RecordUpdate = _parse(RecordUpdate, body)

    def run(session: Session) -> RecordDetail:
        record = changeable_record(session, caller, record_id)
        update_record(
            session,
            record,
            caller.actor,
            change.status.value if change.status else None,
            change.note,
        )
        return detail_of(record)

    return await state.run_db(run)


@router.post(
    "/{record_id}/feedback",
    response_model=RecordDetail,
    status_code=201,
    summary="Give feedback on a record",
    description="Judge findings (`index` into `analysis.findings`, `correct` or `incorrect`, "
    "optional comment) and name phrases the analysis missed (`quote` verbatim from the "
    "record's text, `ground`, `severity`). `stagecheck data export-feedback` turns the "
    "feedback into corpus records for review.",
    openapi_extra=request_body("FeedbackIn", "record_feedback"),
    responses={**json_examples("record_feedback", 201), **problem_responses(*_WRITE_PROBLEMS)},
)
async def feedback(
    record_id: str, body: JsonBody, state: StateDep, caller: MemberDep
) -> RecordDetail:
    """POST /v1/records/{record_id}/feedback."""
    given: FeedbackIn = _parse(FeedbackIn, body)

    def run(session: Session) -> RecordDetail:
        record = changeable_record(session, caller, record_id)
        count = len(record.analysis.get("findings", []))
        errors = [
            FieldError(
                field=f"findings[{i}].index",
                message=f"the record has {count} finding(s); index must be below {count}",
                type="out_of_range",
            )
            for i, judgement in enumerate(given.findings)
            if judgement.index >= count
        ] + [
            FieldError(
                field=f"missed[{i}].quote",
                message="the quote must occur verbatim in the record's (redacted) text",
                type="not_in_text",
            )
            for i, phrase in enumerate(given.missed)
            if phrase.quote not in record.text
        ]
        if errors:
            names = ", ".join(e.field for e in errors)
            raise ProblemError(VALIDATION_ERROR, f"invalid field(s): {names}", errors=errors)
        add_feedback(
            session,
            record,
            caller.actor,
            [FindingJudgement(j.index, j.assessment, j.comment) for j in given.findings],
            [
                MissedPhrase(m.quote, m.ground.value, m.severity.value, m.comment)
                for m in given.missed
            ],
            now=utcnow(),
        )
        return detail_of(record)

    return await state.run_db(run)


@router.delete(
    "/{record_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a record",
    description="Only a key with the role admin, and only its own organisation's records.",
    responses=problem_responses(*_READ_PROBLEMS, NOT_FOUND),
)
async def delete(record_id: str, state: StateDep, caller: MemberDep) -> Response:
    """DELETE /v1/records/{record_id}."""

    def run(session: Session) -> None:
        record = changeable_record(session, caller, record_id)
        if caller.role != "admin":
            raise ProblemError(
                FORBIDDEN, f"deleting a record needs the role admin; this key is {caller.role}"
            )
        delete_record(session, record)

    await state.run_db(run)
    return Response(status_code=204)
