"""Batch: upload a CSV, XLSX or JSONL file of vacancies, follow the job, read and download
the results (service.batchjobs does the work, service.uploads reads the file)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio.to_thread
from fastapi import File, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from service.batchjobs import (
    KEEP_FOR,
    BatchBusyError,
    BatchRunner,
    JobView,
    filter_results,
    get_job,
    purge_jobs,
    recent_jobs,
    sort_results,
    view_of,
)
from service.deps import StateDep
from service.exports import batch_csv, batch_workbook
from service.state import ServiceState
from service.store.models import utcnow
from service.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS, UploadError, parse_upload
from service.web.auth import UserDep, WebError, WebUser, not_found, page_router
from service.web.pagekit import owner_of
from service.web.render import VERDICT_LABELS, ground_labels, render

logger = logging.getLogger(__name__)

router = page_router()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_LABELS = {
    "queued": "in de wachtrij",
    "running": "bezig",
    "done": "klaar",
    "failed": "mislukt",
    "interrupted": "onderbroken",
}
SORTS = ("row", "verdict", "risk")


def batch_runner(request: Request, state: ServiceState) -> BatchRunner:
    """The worker's batch runner, made on first use."""
    runner: BatchRunner | None = getattr(request.app.state, "batch_runner", None)
    if runner is None:
        runner = BatchRunner(state.sessions, state.analyzer)
        request.app.state.batch_runner = runner
    return runner


def progress_message(job: JobView) -> str:
    """The Dutch sentence beside the progress bar."""
    if job.state == "queued":
        return "De batch staat in de wachtrij."
    if job.state == "running":
        return f"{job.done} van {job.total} teksten geanalyseerd ({job.percent}%)."
    if job.state == "done":
        return f"Klaar: {job.total} teksten geanalyseerd."
    if job.state == "interrupted":
        return (
            "De batch is onderbroken, waarschijnlijk doordat de server opnieuw is gestart. "
            "Upload het bestand opnieuw."
        )
    return job.error or "De batch is mislukt."


def _upload_page(
    request: Request, user: WebUser, state: ServiceState, error: str | None, status: int
) -> HTMLResponse:
    def jobs() -> list[JobView]:
        with state.sessions() as session:
            purge_jobs(session)
            found = recent_jobs(session, user.organisation_id, owner_of(user))
            return [view_of(job) for job in found]

    return render(
        request,
        "pages/batch.html",
        {
            "scope": user.organisation_name,
            "error": error,
            "jobs": jobs(),
            "state_labels": STATE_LABELS,
            "max_rows": MAX_UPLOAD_ROWS,
            "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
            "keep_hours": int(KEEP_FOR.total_seconds() // 3600),
        },
        user=user,
        active="batch",
        status_code=status,
    )


@router.get("/batch", response_class=HTMLResponse)
async def batch_page(request: Request, state: StateDep, user: UserDep) -> HTMLResponse:
    """The upload form and the user's recent batches."""
    return await anyio.to_thread.run_sync(_upload_page, request, user, state, None, 200)


@router.post("/batch", response_class=HTMLResponse)
async def upload(
    request: Request,
    state: StateDep,
    user: UserDep,
    bestand: Annotated[UploadFile, File()],
) -> Response:
    """Read the uploaded file and start a job; back to the form with a Dutch error if bad.

    The CSRF token is checked by the router (page_router) before this runs.
    """
    filename = bestand.filename or "upload"
    data = await bestand.read(MAX_UPLOAD_BYTES + 1)
    max_chars = state.settings.max_text_chars
    try:
        items = await anyio.to_thread.run_sync(
            lambda: parse_upload(data, filename, max_text_chars=max_chars)
        )
        runner = batch_runner(request, state)
        job_id = await anyio.to_thread.run_sync(
            runner.submit, user.organisation_id, owner_of(user), filename, items
        )
    except (UploadError, BatchBusyError) as exc:
        return await anyio.to_thread.run_sync(_upload_page, request, user, state, str(exc), 422)
    return RedirectResponse(f"/batch/{job_id}", status_code=303)


def _job(state: ServiceState, user: WebUser, job_id: str) -> JobView:
    with state.sessions() as session:
        job = get_job(session, job_id, user.organisation_id, owner_of(user))
        if job is None:
            raise not_found()
        return view_of(job)


@router.get("/batch/{job_id}/status")
async def job_status(job_id: str, state: StateDep, user: UserDep) -> JSONResponse:
    """The job's progress as JSON, for the progress bar (static/batch.js)."""
    job = await anyio.to_thread.run_sync(_job, state, user, job_id)
    return JSONResponse(
        {
            "state": job.state,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "finished": job.finished,
            "message": progress_message(job),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/batch/{job_id}", response_class=HTMLResponse)
async def job_page(
    request: Request,
    job_id: str,
    state: StateDep,
    user: UserDep,
    sorteer: str = "row",
    volgorde: str = "",
    grond: str = "",
    oordeel: str = "",
) -> HTMLResponse:
    """The job's progress, or its results: sortable by verdict and risk, filterable by ground."""
    job = await anyio.to_thread.run_sync(_job, state, user, job_id)
    labels = ground_labels(request)
    sort = sorteer if sorteer in SORTS else "row"
    reverse = volgorde == "omgekeerd"
    ground = grond if grond in labels else ""
    verdict = oordeel if oordeel in VERDICT_LABELS else ""
    shown = sort_results(
        filter_results(job.results, ground or None, verdict or None), sort, reverse
    )
    counts = {v: sum(1 for r in job.results if r.get("verdict") == v) for v in VERDICT_LABELS}
    failed = sum(1 for r in job.results if r.get("error"))
    return render(
        request,
        "pages/batch_job.html",
        {
            "scope": user.organisation_name,
            "job": job,
            "message": progress_message(job),
            "state_labels": STATE_LABELS,
            "results": shown,
            "counts": counts,
            "failed": failed,
            "sort": sort,
            "reverse": reverse,
            "ground": ground,
            "verdict": verdict,
            "keep_hours": int(KEEP_FOR.total_seconds() // 3600),
        },
        user=user,
        active="batch",
    )


def _download(state: ServiceState, user: WebUser, job_id: str, fmt: str) -> Response:
    job = _job(state, user, job_id)
    if job.state != "done":
        raise WebError(
            409, "Nog niet klaar", "Deze batch is nog niet klaar; wacht tot de voortgang 100% is."
        )
    stem = f"stagecheck-batch-{job.created_at:%Y%m%d-%H%M}"
    if fmt == "csv":
        content, media = batch_csv(job.results), "text/csv; charset=utf-8"
    else:
        about: list[tuple[str, Any]] = [
            ("bestand", job.filename),
            ("gemaakt (UTC)", job.created_at.replace(tzinfo=None, microsecond=0)),
            ("gedownload (UTC)", utcnow().replace(tzinfo=None, microsecond=0)),
            ("rijen", job.total),
            ("let op", "citaten zijn geredigeerd: persoonsgegevens zijn vervangen"),
        ]
        content, media = batch_workbook(job.results, about), XLSX
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get("/batch/{job_id}/resultaten.csv")
async def download_csv(job_id: str, state: StateDep, user: UserDep) -> Response:
    """The results as CSV, in input order."""
    return await anyio.to_thread.run_sync(_download, state, user, job_id, "csv")


@router.get("/batch/{job_id}/resultaten.xlsx")
async def download_xlsx(job_id: str, state: StateDep, user: UserDep) -> Response:
    """The results as an Excel workbook, in input order."""
    return await anyio.to_thread.run_sync(_download, state, user, job_id, "xlsx")
