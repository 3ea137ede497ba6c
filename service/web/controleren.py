"""Controleren: paste or upload a vacancy or an employer's message and see what is wrong.

- GET  /                                   the form
- POST /                                   analyse (with the decision trace); keep a record
                                           when asked (redacted first, as the API does)
- GET  /controleren/{id}                   a kept check: redacted text, findings, feedback
- GET  /controleren/{id}/herschrijving     the kept text with the suggestions applied
- POST /controleren/{id}/feedback          a finding correct / incorrect, or a missed phrase

Another organisation's record is answered like a missing one (404). The text itself is
never logged; only its length goes to the access log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from nlp.errors import BinaryTextError, EmptyTextError, InputError, TextTooLongError
from nlp.schema import Analysis, Ground, Severity
from service import metrics
from service.deps import StateDep
from service.documents import ACCEPT, DocumentError, ExtractedText, extract_text
from service.middleware import SCOPE_TEXT_CHARS
from service.recordkeeping import new_record
from service.redaction import redact
from service.schemas import AnalyzeRequest, CompanyIn
from service.store.models import Record
from service.store.records import (
    FindingJudgement,
    MissedPhrase,
    add_feedback,
    add_records,
    get_record,
)
from service.web.auth import UserDep, WebError, WebUser, flash, not_found, page_router
from service.web.presenting import (
    STEP_LABELS,
    dropped_candidates,
    highlighted,
    icon,
    rewrite,
    rewrite_markup,
    rewritten_text,
    shown_findings,
)
from service.web.render import ground_labels, render

router = page_router()

KINDS = ("vacancy", "rejection")


def _blank_form() -> dict[str, Any]:
    return {"text": "", "kind": "vacancy", "kvk": "", "company_name": "", "store": False}


def _page(request: Request, user: WebUser, context: dict[str, Any], status: int = 200) -> Response:
    values = {"accept": ACCEPT, "max_upload_mb": _mb(request), "icon": icon, **context}
    return render(
        request, "controleren.html", values, user=user, active="controleren", status_code=status
    )


def _mb(request: Request) -> str:
    state = request.app.state.service
    size = state.settings.max_upload_bytes / (1024 * 1024) if state else 5
    return f"{size:g}".replace(".", ",")


@router.get("/")
async def form(request: Request, user: UserDep) -> Response:
    """GET /: the form."""
    return _page(request, user, {"form": _blank_form(), "errors": {}})


def _input_message(exc: InputError, max_chars: int) -> str:
    if isinstance(exc, EmptyTextError):
        return "Er is geen tekst om te controleren."
    if isinstance(exc, TextTooLongError):
        return f"De tekst is te lang; het maximum is {max_chars:,} tekens.".replace(",", ".")
    if isinstance(exc, BinaryTextError):
        return "De tekst bevat binaire gegevens; plak gewone tekst."
    return "Deze tekst kan niet worden gecontroleerd."


@router.post("/")
async def check(
    request: Request,
    state: StateDep,
    user: UserDep,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    bestand: Annotated[UploadFile | None, File()] = None,
    kind: Annotated[str, Form()] = "vacancy",
    kvk: Annotated[str, Form(max_length=40)] = "",
    company_name: Annotated[str, Form(max_length=300)] = "",
    store: Annotated[str | None, Form()] = None,
) -> Response:
    """POST /: analyse the pasted text or the uploaded file and show the result."""
    settings = state.settings
    keep = store is not None
    form_values = {
        "text": text,
        "kind": kind if kind in KINDS else "vacancy",
        "kvk": kvk,
        "company_name": company_name,
        "store": keep,
    }
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = "Kies of het een vacature of een bericht van een werkgever is."

    extracted: ExtractedText | None = None
    if bestand is not None and bestand.filename:
        data = await bestand.read(settings.max_upload_bytes + 1)
        filename = bestand.filename
        if text.strip():
            errors["bestand"] = "Plak een tekst óf kies een bestand, niet allebei."
        else:
            try:
                extracted = await state.run_analysis(
                    lambda: extract_text(filename, data, settings.max_upload_bytes)
                )
            except DocumentError as exc:
                errors["bestand"] = str(exc)
    elif not text.strip():
        errors["text"] = "Plak een tekst of kies een bestand."

    company = None
    if kvk.strip() or company_name.strip():
        if not keep:
            errors["company"] = (
                "Een bedrijf wordt alleen vastgelegd bij een bewaarde controle: vink "
                "‘Bewaren’ aan, of laat KvK-nummer en naam leeg."
            )
        else:
            try:
                company = CompanyIn(kvk=kvk.strip(), name=company_name.strip())
            except ValidationError as exc:
                fields = {str(e["loc"][0]) for e in exc.errors()}
                if "kvk" in fields:
                    errors["kvk"] = "Een KvK-nummer heeft 8 cijfers, bijvoorbeeld 12345678."
                if "name" in fields:
                    errors["company_name"] = "Geef ook de naam van het bedrijf."

    source_text = extracted.text if extracted is not None else text
    content_type = extracted.content_type if extracted is not None else "text/plain"
    if not errors and len(source_text) > settings.max_text_chars:
        errors["text"] = _input_message(
            TextTooLongError(len(source_text), settings.max_text_chars), settings.max_text_chars
        )
    if errors:
        return _page(request, user, {"form": form_values, "errors": errors}, status=422)

    request.scope[SCOPE_TEXT_CHARS] = len(source_text)
    item = AnalyzeRequest.model_construct(
        text=source_text,
        kind=form_values["kind"],
        lang=None,
        content_type=content_type,
        id=None,
        explain=True,
        store=keep,
        company=company,
        reference=None,
    )

    def run() -> tuple[Analysis, Any]:
        analysis = state.analyzer.analyze(
            source_text, kind=item.kind, content_type=content_type, explain=True
        )
        record = new_record(item, analysis, user.organisation_id) if keep else None
        return analysis, record

    try:
        analysis, record = await state.run_analysis(run)
    except InputError as exc:
        field = "bestand" if extracted is not None else "text"
        errors[field] = _input_message(exc, settings.max_text_chars)
        return _page(request, user, {"form": form_values, "errors": errors}, status=422)
    metrics.observe_analysis(analysis)
    record_id = None
    if record is not None:
        ids = await state.run_db(lambda session: add_records(session, [record], user.actor))
        record_id = ids[0]
    shown_text = analysis.text if analysis.text is not None else source_text
    context = _result_context(
        request, shown_text, analysis.model_dump(mode="json"), record_id=record_id
    )
    context.update(
        form=form_values,
        errors={},
        source=extracted.kind if extracted is not None else "plakken",
        filename=bestand.filename if extracted is not None and bestand is not None else None,
        can_give_feedback=record_id is not None,
    )
    return _page(request, user, context)


def _result_context(
    request: Request, text: str, analysis: dict[str, Any], record_id: str | None
) -> dict[str, Any]:
    labels = ground_labels(request)
    findings = shown_findings(analysis)
    pieces = rewrite(text, findings)
    return {
        "result": analysis,
        "record_id": record_id,
        "findings": findings,
        "highlighted": highlighted(text, findings, labels),
        "dropped": dropped_candidates(analysis),
        "step_labels": STEP_LABELS,
        "rewrite_markup": rewrite_markup(pieces),
        "rewrite_text": rewritten_text(pieces),
        "rewrite_changes": sum(1 for p in pieces if p.action in ("replace", "remove")),
        "rewrite_todo": sum(1 for p in pieces if p.action == "todo"),
        "grounds_present": sorted({f.ground for f in findings}, key=list(labels).index),
        "judgements": {},
        "missed": [],
    }


def _record_context(request: Request, record: Record, user: WebUser) -> dict[str, Any]:
    context = _result_context(request, record.text, record.analysis, record_id=record.id)
    judgements: dict[int, str] = {}
    missed = []
    for row in record.feedback:
        if row.finding_index is not None and row.assessment:
            judgements[row.finding_index] = row.assessment
        if row.missed_quote:
            missed.append({"quote": row.missed_quote, "ground": row.missed_ground, "by": row.actor})
    context.update(
        record=record,
        judgements=judgements,
        missed=missed,
        can_give_feedback=record.organisation_id == user.organisation_id,
        form=_blank_form(),
        errors={},
    )
    return context


async def _visible(state: StateDep, user: WebUser, record_id: str) -> dict[str, Any]:
    def load(session: Session) -> Record | None:
        record = get_record(session, user.scope, record_id)
        if record is not None:
            _ = record.organisation.name  # load while the session is open
        return record

    record = await state.run_db(load)
    if record is None:
        raise not_found()
    return {"record": record}


@router.get("/controleren")
async def form_again() -> Response:
    """GET /controleren: the form lives at /."""
    return RedirectResponse("/", status_code=303)


@router.get("/controleren/{record_id}")
async def kept(request: Request, record_id: str, state: StateDep, user: UserDep) -> Response:
    """A kept check: the redacted text with its findings and the feedback given so far."""
    record = (await _visible(state, user, record_id))["record"]
    return _page(request, user, _record_context(request, record, user))


@router.get("/controleren/{record_id}/herschrijving")
async def kept_rewrite(
    request: Request, record_id: str, state: StateDep, user: UserDep
) -> Response:
    """The kept text with the suggestions applied, to send back to the company."""
    record = (await _visible(state, user, record_id))["record"]
    context = _record_context(request, record, user)
    return render(request, "herschrijving.html", context, user=user, active="controleren")


def _feedback_answer(
    request: Request, record_id: str, message: str, ok: bool, anchor: str = ""
) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": ok, "message": message}, status_code=200 if ok else 422)
    flash(request, message, "success" if ok else "error")
    return RedirectResponse(f"/controleren/{record_id}{anchor}", status_code=303)


@router.post("/controleren/{record_id}/feedback")
async def feedback(
    request: Request,
    record_id: str,
    state: StateDep,
    user: UserDep,
    finding: Annotated[int | None, Form(ge=0, le=10_000)] = None,
    assessment: Annotated[str | None, Form()] = None,
    comment: Annotated[str, Form(max_length=2000)] = "",
    missed_quote: Annotated[str, Form(max_length=2000)] = "",
    missed_ground: Annotated[str, Form()] = "",
    missed_severity: Annotated[str, Form()] = "implicit",
) -> Response:
    """Judge a finding (correct / incorrect) or name a phrase the analysis missed."""

    def run(session: Session) -> tuple[bool, str, str]:
        record = get_record(session, user.scope, record_id)
        if record is None:
            raise not_found()
        if record.organisation_id != user.organisation_id:
            raise WebError(
                403,
                "Geen toegang",
                "Je kunt de controles van andere organisaties lezen, maar alleen die van je "
                "eigen organisatie beoordelen.",
            )
        # Redacted before it is written, as the API's RedactedText does for its comments.
        note = redact(comment.strip()).text or None
        if finding is not None:
            count = len(record.analysis.get("findings", []))
            if finding >= count or assessment not in ("correct", "incorrect"):
                return False, "Deze beoordeling past niet bij de controle.", ""
            add_feedback(
                session, record, user.actor, [FindingJudgement(finding, assessment, note)], []
            )
            word = "juist" if assessment == "correct" else "onjuist"
            return (
                True,
                f"Bevinding {finding + 1} is gemarkeerd als {word}. Dank je!",
                f"#bevinding-{finding + 1}",
            )
        quote = missed_quote.strip()
        if not quote:
            return False, "Vul de gemiste formulering in.", "#gemist"
        if quote not in record.text:
            return (
                False,
                "Deze formulering staat niet letterlijk in de (bewaarde) tekst. Kopieer haar "
                "uit de tekst hierboven.",
                "#gemist",
            )
        if missed_ground not in {g.value for g in Ground}:
            return False, "Kies de grond van de gemiste formulering.", "#gemist"
        if missed_severity not in {s.value for s in Severity}:
            return False, "Kies hoe ernstig de gemiste formulering is.", "#gemist"
        add_feedback(
            session,
            record,
            user.actor,
            [],
            [MissedPhrase(quote, missed_ground, missed_severity, note)],
        )
        return True, "De gemiste formulering is toegevoegd. Dank je!", "#gemist"

    ok, message, anchor = await state.run_db(run)
    return _feedback_answer(request, record_id, message, ok, anchor)
