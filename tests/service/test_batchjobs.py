"""Batch jobs: results in input order, redacted quotes, progress, interruption, sorting."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from nlp.analyzer import Analyzer
from service.batchjobs import (
    KEEP_FOR,
    STALE_AFTER,
    BatchRunner,
    filter_results,
    get_job,
    purge_jobs,
    sort_results,
    view_of,
)
from service.exports import batch_csv, batch_workbook
from service.store.db import make_engine, make_session_factory
from service.store.models import BatchJob, Organisation, utcnow
from service.uploads import UploadItem


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    """A migrated database (SQLite, and PostgreSQL when configured) with one school."""
    factory = make_session_factory(make_engine(database_url))
    with factory() as session:
        session.add(Organisation(name="ROC Alfa", type="school", created_at=utcnow()))
        session.commit()
    return factory


def wait_for(sessions: sessionmaker[Session], job_id: str) -> BatchJob:
    """The job once it has finished (or fail after 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sessions() as session:
            job = session.get(BatchJob, job_id)
            assert job is not None
            if job.state in ("done", "failed"):
                return job
        time.sleep(0.05)
    pytest.fail("the batch job did not finish")


ITEMS = [
    UploadItem(
        1,
        "v1",
        "vacancy",
        "Wij zoeken een stagiair van max. 22 jaar. Mail naar jan.devries@example.nl.",
    ),
    UploadItem(2, "v2", "vacancy", "Wij zoeken een enthousiaste kok in opleiding."),
    UploadItem(3, "v3", "vacancy", "", "de tekst is leeg"),
    UploadItem(
        4, "r1", "rejection", "Beste Fatima, je past qua achtergrond niet zo goed bij ons team."
    ),
]


def test_job_screens_in_input_order_and_keeps_no_text(
    sessions: sessionmaker[Session], rules: Analyzer
) -> None:
    runner = BatchRunner(sessions, rules)
    items = list(ITEMS)
    job_id = runner.submit(1, "user:1", "vacatures.csv", items)
    job = wait_for(sessions, job_id)
    runner.shutdown()
    assert job.state == "done" and job.done == job.total == 4
    results = job.results or []
    assert [r["row"] for r in results] == [1, 2, 3, 4]
    assert [r["verdict"] for r in results] == ["reject", "ok", None, "review"]
    assert results[2]["error"] == "de tekst is leeg"
    assert results[0]["grounds"] == ["age"]
    assert results[0]["findings"][0]["quote"] == "max. 22 jaar"
    stored = repr(results)
    for secret in ("jan.devries", "Fatima", "enthousiaste kok"):
        assert secret not in stored
    assert items == []  # the texts are let go once the job is done


def test_jobs_belong_to_their_owner(sessions: sessionmaker[Session], rules: Analyzer) -> None:
    runner = BatchRunner(sessions, rules)
    job_id = runner.submit(1, "user:1", "a.csv", list(ITEMS[:1]))
    wait_for(sessions, job_id)
    runner.shutdown()
    with sessions() as session:
        assert get_job(session, job_id, 1, "user:1") is not None
        assert get_job(session, job_id, 1, "user:2") is None
        assert get_job(session, job_id, 2, "user:1") is None


def test_a_job_whose_process_stopped_reads_interrupted(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    job = BatchJob(
        id="j",
        organisation_id=1,
        owner="u",
        filename="f.csv",
        created_at=now,
        updated_at=now,
        state="running",
        total=10,
        done=3,
    )
    assert view_of(job, now).state == "running"
    later = view_of(job, now + STALE_AFTER + timedelta(seconds=1))
    assert later.state == "interrupted" and later.finished and later.percent == 30


def test_old_jobs_are_purged(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with sessions() as session:
        for name, age in (("old", KEEP_FOR + timedelta(minutes=1)), ("new", timedelta(0))):
            session.add(
                BatchJob(
                    id=name,
                    organisation_id=1,
                    owner="u",
                    filename="f",
                    created_at=now - age,
                    updated_at=now - age,
                    state="done",
                    total=0,
                    done=0,
                )
            )
        session.commit()
        assert get_job(session, "old", 1, "u") is None  # expired, even before the purge
        assert get_job(session, "new", 1, "u") is not None
        assert purge_jobs(session, now) == 1
        assert session.get(BatchJob, "new") is not None


RESULTS: list[dict[str, Any]] = [
    {"row": 1, "verdict": "review", "risk": 0.6, "grounds": ["age"], "findings": [], "error": None},
    {"row": 2, "verdict": "ok", "risk": 0.1, "grounds": [], "findings": [], "error": None},
    {"row": 3, "verdict": None, "risk": None, "grounds": [], "findings": [], "error": "leeg"},
    {
        "row": 4,
        "verdict": "reject",
        "risk": 0.9,
        "grounds": ["religion", "age"],
        "findings": [],
        "error": None,
    },
    {
        "row": 5,
        "verdict": "review",
        "risk": 0.8,
        "grounds": ["origin"],
        "findings": [],
        "error": None,
    },
]


def rows(results: list[dict[str, Any]]) -> list[Any]:
    """The row numbers of `results`."""
    return [r["row"] for r in results]


def test_sorting_and_filtering() -> None:
    assert rows(sort_results(RESULTS)) == [1, 2, 3, 4, 5]
    assert rows(sort_results(RESULTS, "row", reverse=True)) == [5, 4, 3, 2, 1]
    assert rows(sort_results(RESULTS, "verdict")) == [4, 5, 1, 2, 3]
    assert rows(sort_results(RESULTS, "verdict", reverse=True)) == [2, 1, 5, 4, 3]
    assert rows(sort_results(RESULTS, "risk")) == [4, 5, 1, 2, 3]
    assert rows(sort_results(RESULTS, "risk", reverse=True)) == [2, 1, 5, 4, 3]
    assert rows(filter_results(RESULTS, ground="age")) == [1, 4]
    assert rows(filter_results(RESULTS, verdict="review")) == [1, 5]


def test_exports_keep_input_order_and_defuse_formulas() -> None:
    import io

    from openpyxl import load_workbook

    results = [dict(r, id=f"=cmd{r['row']}") for r in RESULTS]
    csv_text = batch_csv(results).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("rij,id,soort")
    assert "'=cmd1" in csv_text
    workbook = load_workbook(io.BytesIO(batch_workbook(results, [("bestand", "a.csv")])))
    sheet = workbook["resultaten"]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + len(RESULTS)
    assert [v[0] for v in values[1:]] == [1, 2, 3, 4, 5]
    assert values[4][6] == "religion age"
