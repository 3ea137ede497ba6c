"""POST /v1/analyze and POST /v1/analyze/batch: texts in, analysis objects out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from nlp.analyzer import AnalysisRequest, Analyzer
from nlp.errors import InputError
from nlp.schema import Analysis
from service import metrics
from service.config import Settings
from service.deps import NO_ORGANISATION, CallerDep, JsonBody, StateDep
from service.middleware import SCOPE_ITEMS, SCOPE_TEXT_CHARS
from service.openapi_examples import request_body, response_examples
from service.problem import (
    API_KEY_INVALID,
    API_KEY_MISSING,
    BATCH_TOO_LARGE,
    BINARY_TEXT,
    BODY_TOO_LARGE,
    EMPTY_TEXT,
    FORBIDDEN,
    MALFORMED_JSON,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    TEXT_TOO_LONG,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    FieldError,
    ProblemError,
    input_problem,
    problem_responses,
    validation_problem,
)
from service.recordkeeping import new_record
from service.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    BatchEnvelope,
    BatchItemError,
    BatchResponse,
)
from service.security import Caller
from service.state import ServiceState
from service.store.records import NewRecord, add_records

router = APIRouter(prefix="/v1", tags=["analyse"])

_COMMON_PROBLEMS = (
    MALFORMED_JSON,
    API_KEY_MISSING,
    API_KEY_INVALID,
    BODY_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
    RATE_LIMITED,
)


def _too_long(length: int, limit: int, field: str) -> ProblemError:
    detail = f"text is {length:,} characters long; the limit is {limit:,} characters"
    return ProblemError(
        TEXT_TOO_LONG,
        detail,
        errors=[FieldError(field=field, message=detail, type="text_too_long")],
    )


def parse_item(data: Any, settings: Settings, prefix: str = "") -> AnalyzeRequest:
    """One analyse request, validated; raise a 422 or 413 problem naming the field."""
    try:
        item = AnalyzeRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc, prefix) from None
    if len(item.text) > settings.max_text_chars:
        field = f"{prefix}.text" if prefix else "text"
        raise _too_long(len(item.text), settings.max_text_chars, field)
    return item


def _request_of(item: AnalyzeRequest) -> AnalysisRequest:
    """The analyzer's request for one validated API request."""
    return AnalysisRequest(
        text=item.text,
        kind=item.kind,
        lang=None if item.lang in (None, "auto") else item.lang,
        content_type=item.content_type,
        id=item.id,
        explain=item.explain,
    )


def response_of(analysis: Analysis, record_id: str | None = None) -> AnalyzeResponse:
    """The analysis as the API returns it, with the record's id when one was kept."""
    fields = {name: getattr(analysis, name) for name in Analysis.model_fields}
    return AnalyzeResponse.model_construct(**fields, record_id=record_id)


def _organisation_of(caller: Caller) -> int:
    if caller.organisation_id is None or caller.role is None:
        raise ProblemError(
            FORBIDDEN, f"store: true needs a key of an organisation; {NO_ORGANISATION}"
        )
    return caller.organisation_id


@router.post(
    "/analyze",
    response_model=AnalyzeResponse,
    summary="Analyse one text",
    description="Analyse one vacancy or employer's message and return the analysis object "
    "(`verdict` ok/review/reject, `risk`, and `findings` with ground, exact offsets, a "
    "Dutch or English explanation, the legal basis and a suggestion). The examples are real "
    "outputs of this release.\n\n"
    "With `store: true` (and optionally `company` and `reference`) the caller's organisation "
    "keeps a record: the text with personal data redacted (e-mail, phone numbers, IBAN, BSN, "
    "addresses, URLs with a query, names in greetings and signatures), the analysis with "
    "its offsets pointing into that text, the model version and the time. The response is "
    "the analysis of the text as sent, with `record_id`. When the database does not answer, "
    "the request fails with 503 and nothing is kept; without `store` analysis goes on.",
    openapi_extra=request_body("AnalyzeRequest", "analyze"),
    responses={
        200: {"content": {"application/json": {"examples": response_examples("analyze")}}},
        **problem_responses(
            *_COMMON_PROBLEMS,
            TEXT_TOO_LONG,
            EMPTY_TEXT,
            BINARY_TEXT,
            FORBIDDEN,
            SERVICE_UNAVAILABLE,
        ),
    },
)
async def analyze(
    request: Request, body: JsonBody, state: StateDep, caller: CallerDep
) -> AnalyzeResponse:
    """POST /v1/analyze."""
    item = parse_item(body, state.settings)
    organisation_id = _organisation_of(caller) if item.store else None
    request.scope[SCOPE_TEXT_CHARS] = len(item.text)

    try:
        analysis = await state.batcher.analyze(_request_of(item))
    except InputError as exc:
        raise input_problem(exc, "text") from None
    metrics.observe_analysis(analysis)
    if organisation_id is None:
        return response_of(analysis)
    record = await state.run_analysis(lambda: new_record(item, analysis, organisation_id))
    ids = await state.run_db(lambda session: add_records(session, [record], caller.actor))
    return response_of(analysis, ids[0])


def _batch_error(index: int, raw: Any, error: ProblemError) -> BatchItemError:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    item_id = (
        str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
    )
    return BatchItemError(index=index, id=item_id, error=error.body())


def _analyze_batch(
    analyzer: Analyzer, settings: Settings, items: list[Any], caller: Caller
) -> tuple[list[Analysis | BatchItemError], dict[int, NewRecord]]:
    """Validate every item, then analyse the valid ones together (`analyze_many`)."""
    results: list[Analysis | BatchItemError | None] = [None] * len(items)
    valid: list[tuple[int, AnalyzeRequest, int | None]] = []
    for index, raw in enumerate(items):
        try:
            item = parse_item(raw, settings, f"items[{index}]")
            organisation_id = _organisation_of(caller) if item.store else None
        except ProblemError as error:
            results[index] = _batch_error(index, raw, error)
            continue
        valid.append((index, item, organisation_id))
    outcomes = analyzer.analyze_many([_request_of(item) for _, item, _ in valid])
    records: dict[int, NewRecord] = {}
    for (index, item, organisation_id), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, InputError):
            problem = input_problem(outcome, f"items[{index}].text")
            results[index] = _batch_error(index, items[index], problem)
            continue
        if organisation_id is not None:
            records[index] = new_record(item, outcome, organisation_id)
        results[index] = outcome
    return [result for result in results if result is not None], records


async def _store_batch(
    state: ServiceState, caller: Caller, results: list[Any], records: dict[int, NewRecord]
) -> None:
    """Keep the batch's records in one transaction; if it fails, their items get the 503."""
    if not records:
        return
    try:
        ids = await state.run_db(
            lambda session: add_records(session, list(records.values()), caller.actor)
        )
    except ProblemError as error:
        for index in records:
            results[index] = BatchItemError(index=index, id=results[index].id, error=error.body())
        return
    for index, record_id in zip(records, ids, strict=True):
        results[index] = response_of(results[index], record_id)


@router.post(
    "/analyze/batch",
    response_model=BatchResponse,
    summary="Analyse many texts",
    description="Analyse up to STAGECHECK_MAX_BATCH_ITEMS texts (default 500). Results come "
    "in input order, one per item: the analysis object, or for an item that cannot be "
    "analysed an entry with its `index`, `id` and a problem object as `error`; the other "
    "items still succeed. Items with `store: true` are kept as records in one transaction: "
    "if the database does not answer, those items get a 503 problem and none is kept. The "
    "examples are real outputs of this release.",
    openapi_extra=request_body("BatchRequest", "analyze_batch"),
    responses={
        200: {"content": {"application/json": {"examples": response_examples("analyze_batch")}}},
        **problem_responses(*_COMMON_PROBLEMS, BATCH_TOO_LARGE),
    },
)
async def analyze_batch(
    request: Request, body: JsonBody, state: StateDep, caller: CallerDep
) -> BatchResponse:
    """POST /v1/analyze/batch."""
    try:
        envelope = BatchEnvelope.model_validate(body)
    except ValidationError as exc:
        raise validation_problem(exc) from None
    limit = state.settings.max_batch_items
    if len(envelope.items) > limit:
        raise ProblemError(
            BATCH_TOO_LARGE,
            f"the batch holds {len(envelope.items):,} items; the limit is {limit:,}",
            errors=[
                FieldError(
                    field="items",
                    message=f"at most {limit:,} items",
                    type="too_long",
                )
            ],
        )
    request.scope[SCOPE_ITEMS] = len(envelope.items)
    request.scope[SCOPE_TEXT_CHARS] = sum(
        len(item["text"])
        for item in envelope.items
        if isinstance(item, dict) and isinstance(item.get("text"), str)
    )
    results, records = await state.run_analysis(
        lambda: _analyze_batch(state.analyzer, state.settings, envelope.items, caller)
    )
    for result in results:
        if isinstance(result, Analysis):
            metrics.observe_analysis(result)
    await _store_batch(state, caller, results, records)
    out: list[AnalyzeResponse | BatchItemError] = [
        response_of(r) if isinstance(r, Analysis) and not isinstance(r, AnalyzeResponse) else r
        for r in results
    ]
    failed = sum(1 for r in out if isinstance(r, BatchItemError))
    return BatchResponse(count=len(out), failed=failed, results=out)
