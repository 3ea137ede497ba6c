"""Batch jobs of the Batch page: screen an uploaded file in the background, report progress.

A job is a row in `batch_jobs` (service.store.models.BatchJob); the work runs in a thread
of the worker process that received the upload (one job at a time per process, so a batch
never takes more than one core from the officers' own analyses). Any worker can answer the
page's progress polls, because progress and results are in the database.

What is kept: per row its number, id, kind, verdict, risk, grounds and findings, with every
quote taken from the text after redaction (service.redaction). The texts themselves stay in
memory only until they are analysed, and are never logged.

Restart: a job lives in its process. When the process stops (restart, deploy, crash) the
job stops too; its row then stops being updated, and after `STALE_AFTER` the page shows it
as interrupted ("onderbroken") so the officer uploads the file again. Jobs are deleted
`KEEP_FOR` after they were made.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from nlp.analyzer import Analyzer
from nlp.errors import StagecheckError
from service.errors import ServiceError
from service.recordkeeping import redacted_analysis
from service.redaction import redact
from service.store.models import BatchJob, utcnow
from service.uploads import UploadItem

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)
QUEUED_STALE_AFTER = timedelta(minutes=15)
KEEP_FOR = timedelta(hours=24)
MAX_WAITING = 5  # jobs queued or running in one process before new ones are refused
PROGRESS_EVERY = 0.5  # seconds between progress writes

VERDICT_ORDER = {"reject": 0, "review": 1, "ok": 2}


class BatchBusyError(ServiceError):
    """Too many batch jobs wait in this process; the message is Dutch, for the page."""

    code = "batch-busy"


@dataclass(frozen=True)
class JobView:
    """A job as the page shows it: its state (with `interrupted`), progress and results."""

    id: str
    filename: str
    created_at: datetime
    state: str
    total: int
    done: int
    results: list[dict[str, Any]]
    error: str | None

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self.state in ("done", "failed", "interrupted")

    @property
    def percent(self) -> int:
        """Progress in whole percent."""
        return 100 if self.total == 0 else int(100 * self.done / self.total)


def view_of(job: BatchJob, now: datetime | None = None) -> JobView:
    """How a stored job looks now: a job whose process stopped reads `interrupted`."""
    moment = now or utcnow()
    state = job.state
    if (state == "running" and moment - job.updated_at > STALE_AFTER) or (
        state == "queued" and moment - job.updated_at > QUEUED_STALE_AFTER
    ):
        state = "interrupted"
    return JobView(
        id=job.id,
        filename=job.filename,
        created_at=job.created_at,
        state=state,
        total=job.total,
        done=job.done,
        results=list(job.results or []),
        error=job.error,
    )


def get_job(session: Session, job_id: str, organisation_id: int, owner: str) -> BatchJob | None:
    """The job if it belongs to this user of this organisation and has not expired."""
    return session.scalar(
        select(BatchJob).where(
            BatchJob.id == job_id,
            BatchJob.organisation_id == organisation_id,
            BatchJob.owner == owner,
            BatchJob.created_at >= utcnow() - KEEP_FOR,
        )
    )


def recent_jobs(
    session: Session, organisation_id: int, owner: str, limit: int = 10
) -> list[BatchJob]:
    """The user's newest jobs (without their results), newest first."""
    from sqlalchemy.orm import defer

    return list(
        session.scalars(
            select(BatchJob)
            .where(
                BatchJob.organisation_id == organisation_id,
                BatchJob.owner == owner,
                BatchJob.created_at >= utcnow() - KEEP_FOR,
            )
            .order_by(BatchJob.created_at.desc())
            .limit(limit)
            .options(defer(BatchJob.results))
        )
    )


def purge_jobs(session: Session, now: datetime | None = None) -> int:
    """Delete jobs older than KEEP_FOR; returns how many."""
    before = (now or utcnow()) - KEEP_FOR
    result = session.execute(delete(BatchJob).where(BatchJob.created_at < before))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def result_of(item: UploadItem, analysis: Any | None, error: str | None) -> dict[str, Any]:
    """The row kept for one item: no text, quotes from the redacted text."""
    row: dict[str, Any] = {"row": item.row, "id": item.id, "kind": item.kind}
    if analysis is None:
        return row | {
            "verdict": None,
            "risk": None,
            "grounds": [],
            "findings": [],
            "error": error or item.error,
        }
    stored = redacted_analysis(analysis, redact(item.text))
    findings = [
        {
            "ground": f["ground"],
            "severity": f["severity"],
            "quote": f["quote"],
            "legal_basis": f.get("legal_basis"),
        }
        for f in stored["findings"]
    ]
    return row | {
        "kind": stored["kind"],
        "lang": stored["lang"],
        "verdict": stored["verdict"],
        "risk": round(float(stored["risk"]), 4),
        "grounds": sorted({f["ground"] for f in findings}),
        "findings": findings,
        "error": None,
    }


def sort_results(
    results: Sequence[dict[str, Any]], key: str = "row", reverse: bool = False
) -> list[dict[str, Any]]:
    """Results in input order (`row`), worst verdict first (`verdict`) or highest risk first
    (`risk`); `reverse` turns the order round. Rows that failed go last; ties keep input order.
    """
    if key == "row":
        return sorted(results, key=lambda r: int(r["row"]), reverse=reverse)
    failed = [r for r in results if r.get("error")]
    good = [r for r in results if not r.get("error")]
    if key == "verdict":
        good.sort(key=lambda r: (VERDICT_ORDER.get(r["verdict"], 3), -float(r["risk"]), r["row"]))
    else:
        good.sort(key=lambda r: (-float(r["risk"]), r["row"]))
    if reverse:
        good.reverse()
    return good + failed


def filter_results(
    results: Sequence[dict[str, Any]], ground: str | None = None, verdict: str | None = None
) -> list[dict[str, Any]]:
    """Results with a finding of `ground` and/or with `verdict`; None leaves a filter out."""
    chosen = list(results)
    if ground:
        chosen = [r for r in chosen if ground in r.get("grounds", [])]
    if verdict:
        chosen = [r for r in chosen if r.get("verdict") == verdict]
    return chosen


class BatchRunner:
    """Runs the batch jobs of one worker process, one at a time, in a background thread."""

    def __init__(self, sessions: sessionmaker[Session], analyzer: Analyzer) -> None:
        """Jobs are written with `sessions` and analysed with `analyzer`."""
        self._sessions = sessions
        self._analyzer = analyzer
        self._queue: queue.Queue[tuple[str, list[UploadItem]] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        # A daemon thread: stopping the server never waits for a batch; the job it leaves
        # behind reads "interrupted" once its progress is stale (view_of).
        self._thread = threading.Thread(target=self._work, name="batch-job", daemon=True)
        self._thread.start()

    def submit(
        self, organisation_id: int, owner: str, filename: str, items: list[UploadItem]
    ) -> str:
        """Store a new job and queue it; returns its id. Raise BatchBusyError when full."""
        with self._lock:
            if self._waiting >= MAX_WAITING:
                raise BatchBusyError(
                    "Er worden al te veel batches verwerkt. Probeer het over een minuut opnieuw."
                )
            self._waiting += 1
        try:
            now = utcnow()
            job = BatchJob(
                id=str(uuid.uuid4()),
                organisation_id=organisation_id,
                owner=owner,
                filename=filename[:255],
                created_at=now,
                updated_at=now,
                state="queued",
                total=len(items),
                done=0,
            )
            with self._sessions() as session:
                purge_jobs(session, now)
                session.add(job)
                session.commit()
            self._queue.put((job.id, items))
        except BaseException:
            with self._lock:
                self._waiting -= 1
            raise
        return job.id

    def shutdown(self) -> None:
        """Stop after the job in progress; jobs still queued are left to read interrupted."""
        self._queue.put(None)

    def _work(self) -> None:
        while (task := self._queue.get()) is not None:
            self._run(*task)

    def _update(self, job_id: str, **values: Any) -> None:
        with self._sessions() as session:
            job = session.get(BatchJob, job_id)
            if job is None:
                return
            for name, value in values.items():
                setattr(job, name, value)
            job.updated_at = utcnow()
            session.commit()

    def _run(self, job_id: str, items: list[UploadItem]) -> None:
        started = time.monotonic()
        try:
            self._update(job_id, state="running")
            results: list[dict[str, Any]] = []
            last_write = time.monotonic()
            for position, item in enumerate(items):
                results.append(self._screen(item))
                # Drop the text as soon as it is analysed.
                items[position] = UploadItem(item.row, item.id, item.kind, "", item.error)
                if time.monotonic() - last_write >= PROGRESS_EVERY:
                    self._update(job_id, done=len(results))
                    last_write = time.monotonic()
            self._update(job_id, state="done", done=len(results), results=results)
            logger.info(
                "batch job %s: %d item(s) in %.1f s", job_id, len(items), time.monotonic() - started
            )
        except Exception as exc:
            logger.error("batch job %s failed: %s", job_id, type(exc).__name__)
            try:
                self._update(
                    job_id,
                    state="failed",
                    error="De batch kon niet worden afgemaakt door een fout op de server.",
                )
            except Exception as again:
                logger.error(
                    "batch job %s: cannot record the failure: %s", job_id, type(again).__name__
                )
        finally:
            items.clear()
            with self._lock:
                self._waiting -= 1

    def _screen(self, item: UploadItem) -> dict[str, Any]:
        if item.error is not None:
            return result_of(item, None, item.error)
        try:
            analysis = self._analyzer.analyze(item.text, kind=item.kind, id=item.id)
        except StagecheckError as exc:
            # The message names the problem (empty, too long, binary), never the text.
            return result_of(item, None, f"kon niet worden geanalyseerd: {exc}")
        return result_of(item, analysis, None)


def count_jobs(session: Session) -> int:
    """How many jobs are kept (for tests and the operator)."""
    return int(session.scalar(select(func.count()).select_from(BatchJob)) or 0)
