"""Access control of the web pages: every page route against every kind of caller.

The web page's mirror of tests/service/test_access_matrix.py. ROC Alfa's officer keeps a
check (through the Controleren form) about a company no other school has seen, and starts a
batch. Every route the page modules register (the table below must list them all: the test
walks the app's routes and fails on one that is missing) is called by nobody signed in,
Alfa's officer and admin, Beta's officer and SBB. The rules:

- the status (and for a redirect, where to) each caller gets is the one in the table;
  nobody signed in is sent to /inloggen;
- Beta gets for Alfa's record or company page exactly the page it gets for one that does
  not exist, and everyone but its owner gets that page for Alfa's officer's batch;
- no response to Beta or to nobody holds Alfa's record id, company name or KvK number, and
  no response to anyone but the owner holds the batch's id or file name: lists, searches,
  figures, exports and downloads included (a workbook is unpacked before it is searched);
- SBB reads Alfa's record but cannot judge its findings or change its status;
- every POST is refused (403) without the session's own CSRF token, and changes nothing.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select
from starlette.routing import BaseRoute

from service.config import DATABASE_FILE
from service.store.db import make_engine, make_session_factory
from service.store.models import Feedback, RecordEvent
from tests.web.conftest import ACCOUNTS, MakeWebClient, csrf_of, sign_in

KVK = "31415926"
COMPANY_NAME = "Geheimbakkerij Zwaluw"
BATCH_FILE = "zwaluw-batch-7731.csv"
TEXT = "Wij zoeken een stagiair van max. 22 jaar voor onze bakkerij."
MISSING_RECORD = "00000000-0000-4000-8000-000000000000"
MISSING_KVK = "27182818"
MISSING_JOB = "00000000-0000-4000-8000-000000000001"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

CALLERS = ("anonymous", "officer_a", "admin_a", "officer_b", "sbb")
EMAILS = {
    "officer_a": ACCOUNTS.officer_a,
    "admin_a": ACCOUNTS.admin_a,
    "officer_b": ACCOUNTS.officer_b,
    "sbb": ACCOUNTS.sbb,
}
SEES_ALFA = {"officer_a", "admin_a", "sbb"}  # may read Alfa's records and company
OWNER = "officer_a"  # started the batch

# What a caller must get: a status, and for a redirect a pattern its Location must match.
Want = tuple[int, str | None]
OK: Want = (200, None)
GONE: Want = (404, None)
LOGIN: Want = (303, r"/inloggen(\?volgende=.+)?")
HOME: Want = (303, "/")
READ_ONLY: Want = (403, None)


def want(signed_in: Want, anonymous: Want = LOGIN, **by_caller: Want) -> dict[str, Want]:
    """The expectation per caller: `signed_in` for everyone signed in, with exceptions."""
    return {
        caller: by_caller.get(caller, anonymous if caller == "anonymous" else signed_in)
        for caller in CALLERS
    }


@dataclass(frozen=True)
class Call:
    """One request of the matrix. `path` may hold `{record}`, `{kvk}` and `{job}`: Alfa's,
    or ones that do not exist, to compare a refusal with; `form` values may hold `{caller}`."""

    route: tuple[str, str]  # (method, path template) as the app registers it
    path: str
    want: Mapping[str, Want]
    form: Mapping[str, str] = field(default_factory=dict)
    upload: tuple[str, bytes] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    shows_alfa: bool = False  # the control: whoever may see Alfa's company finds it here
    shows_batch: bool = False  # the control: the owner finds the batch here

    def url(self, record: str, kvk: str, job: str) -> str:
        """The path with the objects filled in."""
        return self.path.format(record=record, kvk=kvk, job=job)


def batch_csv(text: str = TEXT) -> bytes:
    """A one-row batch file."""
    return f"id,text\nv1,{text}\n".encode()


def matrix() -> list[Call]:
    """Every call of the matrix, in the order they are made (signing out last)."""
    alfa_record = want(OK, officer_b=GONE)
    alfa_change = {"officer_b": GONE, "sbb": READ_ONLY}
    owner_only = want(OK, admin_a=GONE, officer_b=GONE, sbb=GONE)
    return [
        Call(("GET", "/inloggen"), "/inloggen", want(HOME, anonymous=OK)),
        Call(
            ("POST", "/inloggen"),
            "/inloggen",
            want((400, None), anonymous=(400, None)),
            # An address per caller: five wrong tries lock even an address without account.
            form={"email": "niemand-{caller}@example.nl", "password": "geen-goed-wachtwoord"},
        ),
        Call(("GET", "/"), "/", want(OK)),
        Call(("POST", "/"), "/", want(OK), form={"text": TEXT, "kind": "vacancy"}),
        Call(("GET", "/controleren"), "/controleren", want(HOME, anonymous=HOME)),
        Call(("GET", "/controleren/{record_id}"), "/controleren/{record}", alfa_record),
        Call(
            ("GET", "/controleren/{record_id}/herschrijving"),
            "/controleren/{record}/herschrijving",
            alfa_record,
        ),
        Call(
            ("POST", "/controleren/{record_id}/feedback"),
            "/controleren/{record}/feedback",
            want((303, f"/controleren/{UUID}#bevinding-1"), **alfa_change),
            form={"finding": "0", "assessment": "correct"},
        ),
        Call(("GET", "/opvolging"), "/opvolging", want(OK), shows_alfa=True),
        Call(
            ("GET", "/opvolging"),
            f"/opvolging?bedrijf={KVK}",
            want(OK),
            shows_alfa=True,
        ),
        Call(("GET", "/opvolging/{record_id}"), "/opvolging/{record}", alfa_record),
        Call(
            ("POST", "/opvolging/{record_id}"),
            "/opvolging/{record}",
            # SBB gets the record page back with "only your own organisation" (422).
            want((303, f"/opvolging/{UUID}"), officer_b=GONE, sbb=(422, None)),
            form={"status": "company_contacted", "notitie": "Bedrijf gebeld."},
        ),
        Call(("GET", "/bedrijven"), "/bedrijven?q=Zwaluw", want(OK), shows_alfa=True),
        Call(("GET", "/bedrijven"), f"/bedrijven?q={KVK[:4]}", want(OK), shows_alfa=True),
        Call(("GET", "/bedrijven/{kvk}"), "/bedrijven/{kvk}", alfa_record, shows_alfa=True),
        Call(("GET", "/overzicht"), "/overzicht", want(OK)),
        Call(
            ("GET", "/overzicht/export.csv"),
            "/overzicht/export.csv?indeling=company",
            want(OK),
            shows_alfa=True,
        ),
        Call(
            ("GET", "/overzicht/export.xlsx"), "/overzicht/export.xlsx", want(OK), shows_alfa=True
        ),
        Call(("GET", "/batch"), "/batch", want(OK), shows_batch=True),
        Call(
            ("POST", "/batch"),
            "/batch",
            want((303, f"/batch/{UUID}")),
            upload=("eigen.csv", batch_csv("Wij zoeken een kok.")),
        ),
        Call(("GET", "/batch/{job_id}"), "/batch/{job}", owner_only, shows_batch=True),
        Call(("GET", "/batch/{job_id}/status"), "/batch/{job}/status", owner_only),
        Call(
            ("GET", "/batch/{job_id}/status"),
            "/batch/{job}/status",
            # What static/batch.js asks: JSON, and 401 instead of a redirect.
            want(OK, anonymous=(401, None), admin_a=GONE, officer_b=GONE, sbb=GONE),
            headers={"Accept": "application/json"},
        ),
        Call(
            ("GET", "/batch/{job_id}/resultaten.csv"),
            "/batch/{job}/resultaten.csv",
            owner_only,
        ),
        Call(
            ("GET", "/batch/{job_id}/resultaten.xlsx"),
            "/batch/{job}/resultaten.xlsx",
            owner_only,
            shows_batch=True,  # the workbook names the uploaded file
        ),
        Call(("POST", "/uitloggen"), "/uitloggen", want(LOGIN)),
    ]


def web_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route a module of `service.web` registers.

    Newer FastAPI keeps an included router as one branch (`original_router` with its
    `include_context`) instead of copying its routes into the app, so both are walked.
    """
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from web_routes(included.routes, prefix + str(getattr(context, "prefix", "")))
        elif isinstance(route, APIRoute) and route.endpoint.__module__.startswith("service.web"):
            for method in route.methods or ():
                yield method, prefix + route.path


@dataclass
class World:
    """A started app with Alfa's objects and a signed-in client per caller."""

    clients: dict[str, TestClient]
    tokens: dict[str, str]
    record: str
    job: str
    registered: set[tuple[str, str]]
    data_dir: Path


def wait_for_job(client: TestClient, job_url: str) -> None:
    """Poll the job until it is finished (it analyses one or two rows)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.get(f"{job_url}/status", headers={"Accept": "application/json"})
        assert response.status_code == 200, f"{job_url}/status: {response.status_code}"
        status = response.json()
        if status["finished"]:
            assert status["state"] == "done", status
            return
        time.sleep(0.05)
    raise AssertionError(f"{job_url} did not finish")


def keep_check(client: TestClient, kvk: str, name: str) -> str:
    """Keep a check through the Controleren form; returns the record id."""
    token = csrf_of(client.get("/").text)
    response = client.post(
        "/",
        data={
            "text": TEXT,
            "kind": "vacancy",
            "store": "1",
            "kvk": kvk,
            "company_name": name,
            "csrf_token": token,
        },
    )
    assert response.status_code == 200, response.text
    found = re.search(rf'href="/controleren/({UUID})"', response.text)
    assert found, "no link to the kept check"
    return found.group(1)


@pytest.fixture
def world(make_web_client: MakeWebClient, web_data_dir: Path) -> Iterator[World]:
    """Alfa's record (with its company) and Alfa's officer's batch; a client per caller."""
    with make_web_client() as anonymous:
        app = anonymous.app
        assert isinstance(app, FastAPI)
        clients = {"anonymous": anonymous}
        for caller, email in EMAILS.items():
            # More clients of the same started app, each with its own cookie jar.
            client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
            assert sign_in(client, email).status_code == 303
            clients[caller] = client
        tokens = {"anonymous": csrf_of(anonymous.get("/inloggen").text)}
        tokens |= {caller: csrf_of(clients[caller].get("/").text) for caller in EMAILS}
        record = keep_check(clients["officer_a"], KVK, COMPANY_NAME)
        keep_check(clients["officer_b"], "87654321", "Garage Beta")  # Beta has its own
        started = clients[OWNER].post(
            "/batch",
            files={"bestand": (BATCH_FILE, batch_csv())},
            data={"csrf_token": tokens[OWNER]},
            follow_redirects=False,
        )
        assert started.status_code == 303, started.text
        wait_for_job(clients[OWNER], started.headers["location"])
        yield World(
            clients=clients,
            tokens=tokens,
            record=record,
            job=started.headers["location"].rsplit("/", 1)[1],
            registered=set(web_routes(app.routes)),
            data_dir=web_data_dir,
        )


def send(world: World, caller: str, call: Call, url: str, token: str | None) -> Any:
    """Make the call as `caller`; on POST with `token` in the form (None: no token)."""
    client = world.clients[caller]
    method = call.route[0]
    if method == "GET":
        return client.get(url, headers=dict(call.headers), follow_redirects=False)
    data = {name: value.format(caller=caller) for name, value in call.form.items()}
    if token is not None:
        data["csrf_token"] = token
    files = {"bestand": call.upload} if call.upload else None
    return client.post(
        url, data=data, files=files, headers=dict(call.headers), follow_redirects=False
    )


def readable(response: Any) -> str:
    """Body and headers, with a workbook (a zip) unpacked so that its cells can be searched."""
    body: bytes = response.content
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"".join(archive.read(name) for name in archive.namelist())
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return body.decode("utf-8", "replace") + "\n" + headers


def test_the_table_lists_every_web_route(world: World) -> None:
    listed = {call.route for call in matrix()}
    assert world.registered, "no web routes found: has the way routes are kept changed?"
    missing = world.registered - listed
    assert not missing, f"add these web routes to the matrix: {sorted(missing)}"
    stale = listed - world.registered
    assert not stale, f"these routes are no longer registered: {sorted(stale)}"
    assert not any(path.startswith(("/v1/", "/static")) for _, path in world.registered)


def test_every_web_route_against_every_caller(world: World) -> None:
    failures: list[str] = []
    for caller in CALLERS:
        # Beta and nobody may not learn anything of Alfa's; only the owner sees the batch.
        hidden = [] if caller in SEES_ALFA else [world.record, COMPANY_NAME, KVK]
        hidden += [] if caller == OWNER else [world.job, BATCH_FILE]
        for call in matrix():
            url = call.url(world.record, KVK, world.job)
            response = send(world, caller, call, url, world.tokens[caller])
            status, location = call.want[caller]
            name = f"{caller} {call.route[0]} {url}"
            if response.status_code != status:
                failures.append(f"{name}: {response.status_code}, expected {status}")
                continue
            if location is not None:
                got = response.headers.get("location", "")
                if not re.fullmatch(location, got):
                    failures.append(f"{name}: sent to {got!r}, expected {location!r}")
            content = readable(response)
            # What the caller put in the URL may come back (the sign-in link); nothing else.
            leaked = [value for value in hidden if value not in url and value in content]
            if leaked:
                failures.append(f"{name}: response reveals {leaked}")
            if call.shows_alfa and caller in SEES_ALFA and COMPANY_NAME not in content:
                failures.append(f"{name}: does not show Alfa's company (control)")
            if call.shows_batch and caller == OWNER and BATCH_FILE not in content:
                failures.append(f"{name}: does not show the owner's batch (control)")
            if status == 404:
                absent = call.url(MISSING_RECORD, MISSING_KVK, MISSING_JOB)
                other = send(world, caller, call, absent, world.tokens[caller])
                if (other.status_code, other.content) != (response.status_code, response.content):
                    failures.append(f"{name}: differs from {absent}, which does not exist")
            if call.route == ("POST", "/batch") and caller != "anonymous":
                wait_for_job(world.clients[caller], response.headers["location"])
        if caller != "anonymous":  # signed out by the last call
            after = world.clients[caller].get("/", follow_redirects=False)
            if after.status_code != 303:
                failures.append(f"{caller}: still signed in after /uitloggen")
    assert not failures, "\n".join(failures)
    assert_outsiders_changed_nothing(world)


def assert_outsiders_changed_nothing(world: World) -> None:
    """Alfa's record holds feedback and history of Alfa's accounts only."""
    engine = make_engine(f"sqlite:///{world.data_dir / DATABASE_FILE}")
    try:
        with make_session_factory(engine)() as session:
            actors = set(
                session.scalars(select(Feedback.actor).where(Feedback.record_id == world.record))
            ) | set(
                session.scalars(
                    select(RecordEvent.actor).where(RecordEvent.record_id == world.record)
                )
            )
    finally:
        engine.dispose()
    assert {ACCOUNTS.officer_a, ACCOUNTS.admin_a} <= actors  # the control: theirs are there
    assert actors <= {ACCOUNTS.officer_a, ACCOUNTS.admin_a}, actors


def database_rows(data_dir: Path) -> list[str]:
    """Every row of every table, as text."""
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return [
                f"{table.name} {row!r}"
                for table in metadata.sorted_tables
                for row in connection.execute(select(table))
            ]
    finally:
        engine.dispose()


def test_every_post_needs_the_sessions_own_csrf_token(world: World) -> None:
    posts = [call for call in matrix() if call.route[0] == "POST"]
    assert {call.route for call in posts} == {r for r in world.registered if r[0] == "POST"}
    before = database_rows(world.data_dir)
    stranger = world.tokens["officer_b"]  # valid, but of another session
    failures: list[str] = []
    for call in posts:
        url = call.url(world.record, KVK, world.job)
        attempts: dict[str, tuple[str, str | None, dict[str, str]]] = {
            "no token": ("officer_a", None, {}),
            "a made-up token": ("officer_a", "x" * 43, {}),
            "an empty token": ("officer_a", "", {}),
            "another session's token": ("officer_a", stranger, {}),
            # The header wins over the form field, so a wrong header is refused.
            "a wrong header": ("officer_a", world.tokens["officer_a"], {"X-CSRF-Token": stranger}),
            "nobody signed in, no token": ("anonymous", None, {}),
        }
        for what, (caller, token, headers) in attempts.items():
            attempt = Call(call.route, call.path, call.want, call.form, call.upload, headers)
            response = send(world, caller, attempt, url, token)
            if response.status_code != 403 or "Formulier verlopen" not in response.text:
                failures.append(f"POST {url} with {what}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert database_rows(world.data_dir) == before, "a refused POST changed the database"
    # Refused sign-outs left the session alone.
    assert world.clients["officer_a"].get("/", follow_redirects=False).status_code == 200
