"""Privacy of the web pages: personal data typed or uploaded into a page ends up nowhere
unredacted.

The web page's mirror of tests/service/test_privacy.py. Employers' messages that name a
student the ways real messages do (a greeting, a label, "mevrouw X", "student X",
"mijn naam is X", a signature) with an e-mail address, a phone number and a BSN go through
every page that takes text, with every logger at DEBUG: Controleren (pasted with "Bewaren"
on, and uploaded as .txt), feedback on a finding and a missed phrase with a comment, a
status note in Opvolging, and a CSV batch run to completion. Afterwards the logs, every row
of every table, the SQLite files, the pages that show what was kept and the CSV and XLSX
downloads and exports are searched for each planted name, address, number and BSN.

Out of scope, by design (SECURITY.md): names without a cue ("Fatima belde"), which the
redactor does not recognise, and the result page of a check, which shows the officer the
text they just sent.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.config import DATABASE_FILE
from service.store.db import make_engine, make_session_factory
from service.store.models import Record
from tests.planted import MESSAGES_WITH_PERSONAL_DATA, Person, bsns, database_dump, unzipped
from tests.web.conftest import csrf_of

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KVK = "12345678"
COMPANY = "Bakkerij De Korenbloem"


_NAMES = [
    ("Fatima", "El Amrani"),
    ("Sven", "Kwakernaak"),
    ("Priya", "Natarajan"),
    ("Daan", "Oosterhuis"),
    ("Aylin", "Demirtas"),
    ("Joris", "Vlietstra"),
]
_PHONES = [
    "06-12345678",
    "+31 6 2345 6789",
    "020 123 4567",
    "(010) 765 43 21",
    "0031 6 87654321",
    "06 98765432",
]
PEOPLE = [
    Person(
        first,
        last,
        f"{first.lower()}.{last.lower().replace(' ', '')}@student.example.nl",
        phone,
        bsn,
    )
    for (first, last), phone, bsn in zip(
        _NAMES, _PHONES, bsns(len(_NAMES), start=111_222_333), strict=True
    )
]

TEMPLATES = [
    *MESSAGES_WITH_PERSONAL_DATA,
    "Mijn naam is {first} {last} en ik solliciteer naar de stage. Mijn nummer is {phone} en "
    "mijn e-mail {email}. BSN {bsn}. Ik ben 19 jaar en draag een hoofddoek.",
]


def message(index: int) -> str:
    """The index-th message, about PEOPLE[index]."""
    person = PEOPLE[index % len(PEOPLE)]
    return TEMPLATES[index % len(TEMPLATES)].format(**person.__dict__)


def note_about(person: Person) -> str:
    """What an officer might write in a note or a comment."""
    return f"Gebeld met student {person.first} {person.last}, {person.phone}, {person.email}."


def bsn_note(person: Person) -> str:
    """A comment with a BSN and an e-mail address."""
    return f"BSN {person.bsn} van {person.email}; leerling {person.first} {person.last}."


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The root logger and every logger made so far at DEBUG, and propagating to caplog."""
    caplog.set_level(logging.DEBUG)
    saved: list[tuple[logging.Logger, int, bool]] = []
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            saved.append((logger, logger.level, logger.propagate))
            logger.setLevel(logging.DEBUG)
            logger.propagate = True
    try:
        yield caplog
    finally:
        for logger, level, propagate in saved:
            logger.setLevel(level)
            logger.propagate = propagate


def post_form(client: TestClient, url: str, data: dict[str, str], **kwargs: Any) -> Any:
    """POST a form with the session's CSRF token."""
    token = csrf_of(client.get("/").text)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def kept_id(response: Any) -> str:
    """The id of the record a Controleren POST kept."""
    assert response.status_code == 200, response.text
    found = re.search(rf'href="/controleren/({UUID})"', response.text)
    assert found, "the check was not kept"
    return found.group(1)


def stored_texts(data_dir: Path) -> dict[str, tuple[str, int]]:
    """Each record's (redacted) text and number of findings, by id."""
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    try:
        with make_session_factory(engine)() as session:
            return {
                record.id: (record.text, len(record.analysis.get("findings", [])))
                for record in session.scalars(select(Record))
            }
    finally:
        engine.dispose()


def web_database_dump(data_dir: Path) -> str:
    """Every row of every table of the web page's SQLite database, as text."""
    return database_dump(f"sqlite:///{data_dir / DATABASE_FILE}")


def readable(content: bytes) -> str:
    """A download as text: a workbook (a zip) unpacked, a CSV as it is."""
    if content.startswith(b"PK"):
        return unzipped(content)
    return content.decode("utf-8-sig", "replace")


def run_batch(client: TestClient, texts: list[str]) -> str:
    """Upload the texts as a CSV batch and wait until it is done; returns the job's URL."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "text", "kind"])
    for n, text in enumerate(texts):
        writer.writerow([f"rij-{n}", text, "afwijzing"])
    token = csrf_of(client.get("/batch").text)
    started = client.post(
        "/batch",
        files={"bestand": ("berichten.csv", buffer.getvalue().encode())},
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    job_url = str(started.headers["location"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.get(f"{job_url}/status", headers={"Accept": "application/json"}).json()
        if status["finished"]:
            assert status["state"] == "done" and status["done"] == len(texts), status
            return job_url
        time.sleep(0.05)
    raise AssertionError("the batch did not finish")


def test_personal_data_typed_into_the_pages_is_found_nowhere(
    every_logger_at_debug: pytest.LogCaptureFixture,  # first: DEBUG from the app's start on
    officer_a: TestClient,
    web_data_dir: Path,
) -> None:
    client = officer_a
    shown: list[str] = []  # pages and downloads that show what was kept

    # Controleren: pasted, kept, half of them with the company.
    for i in range(len(PEOPLE)):
        form = {"text": message(i), "kind": "rejection", "store": "1"}
        if i % 2:
            form |= {"kvk": KVK, "company_name": COMPANY}
        kept_id(post_form(client, "/", form))
    # Controleren: uploaded as a .txt file, kept.
    token = csrf_of(client.get("/").text)
    uploaded = client.post(
        "/",
        data={"kind": "rejection", "store": "1", "csrf_token": token},
        files={"bestand": ("bericht.txt", message(1).encode(), "text/plain")},
    )
    assert "uit bericht.txt" in uploaded.text
    kept_id(uploaded)

    # Feedback with comments, a missed phrase, and a status note on every kept check.
    records = stored_texts(web_data_dir)
    assert len(records) == len(PEOPLE) + 1
    for n, (record_id, (text, findings)) in enumerate(sorted(records.items())):
        person = PEOPLE[n % len(PEOPLE)]
        if findings:
            judged = post_form(
                client,
                f"/controleren/{record_id}/feedback",
                {"finding": "0", "assessment": "correct", "comment": note_about(person)},
                follow_redirects=False,
            )
            assert judged.status_code == 303, judged.text
        missed = post_form(
            client,
            f"/controleren/{record_id}/feedback",
            {
                "missed_quote": text[:12],
                "missed_ground": "origin",
                "missed_severity": "implicit",
                "comment": bsn_note(person),
            },
            headers={"Accept": "application/json"},
        )
        assert missed.json()["ok"], missed.text
        changed = post_form(
            client,
            f"/opvolging/{record_id}",
            {"status": "company_contacted", "notitie": note_about(person) + " " + bsn_note(person)},
            follow_redirects=False,
        )
        assert changed.status_code == 303, changed.text
        for page in (f"/controleren/{record_id}", f"/opvolging/{record_id}"):
            response = client.get(page)
            assert response.status_code == 200
            shown.append(response.text)
        shown.append(client.get(f"/controleren/{record_id}/herschrijving").text)

    # Batch: a CSV of the messages, run to completion, its page and its downloads.
    job_url = run_batch(client, [message(i) for i in range(len(PEOPLE))])
    shown.append(client.get(job_url).text)
    for name in ("resultaten.csv", "resultaten.xlsx"):
        download = client.get(f"{job_url}/{name}")
        assert download.status_code == 200
        shown.append(readable(download.content))

    # Lists, company page, figures and exports.
    for page in ("/opvolging", "/bedrijven?q=Koren", f"/bedrijven/{KVK}", "/overzicht", "/batch"):
        response = client.get(page)
        assert response.status_code == 200, page
        shown.append(response.text)
    for grouping in ("month", "ground", "kind", "verdict", "company"):
        export = client.get(f"/overzicht/export.csv?indeling={grouping}")
        assert export.status_code == 200
        shown.append(readable(export.content))
    workbook = client.get("/overzicht/export.xlsx")
    assert workbook.status_code == 200
    shown.append(readable(workbook.content))

    caplog = every_logger_at_debug
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG really was on
    logs = "\n".join(
        f"{r.name} {r.getMessage()} {r.__dict__!r}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))  # the test client's own requests
    )
    database = web_database_dump(web_data_dir)
    places = {
        "logs": logs,
        "database": database,
        "database files": b"".join(
            p.read_bytes() for p in web_data_dir.glob(DATABASE_FILE + "*")
        ).decode("utf-8", "replace"),
        "pages and downloads": "\n".join(shown),
    }
    # The controls: the redactor ran, and what it left is there to be searched.
    for placeholder in ("[NAME]", "[EMAIL]", "[PHONE]", "[BSN]"):
        assert placeholder in database, placeholder
    assert COMPANY in places["pages and downloads"] and "rij-3" in places["pages and downloads"]
    found = [
        f"{value!r} in {where}"
        for person in PEOPLE
        for value in person.planted
        for where, content in places.items()
        if value in content
    ]
    assert not found, "\n".join(found)
