"""The storage suite, on SQLite and on a real PostgreSQL (STAGECHECK_TEST_POSTGRES_URL).

Migrations from empty, 200 concurrent stored analyses over HTTP, retention, the database
going away and coming back, a failure between two inserts, statistics in both dialects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from nlp.analyzer import Analyzer
from service.app import create_app
from service.state import purge_expired
from service.store.db import make_engine, make_session_factory
from service.store.keys import find_key, hash_secret
from service.store.migrate import (
    alembic_config,
    alembic_head,
    head_revision,
    schema_status,
    upgrade,
)
from service.store.models import (
    Base,
    Feedback,
    Record,
    RecordEvent,
    RecordFinding,
    utcnow,
)
from service.store.records import (
    Actor,
    FindingJudgement,
    MissedPhrase,
    NewRecord,
    Scope,
    add_feedback,
    add_records,
    company_overview,
    get_record,
    record_stats,
)
from tests.service.conftest import (
    OrgKeys,
    add_org_keys,
    postgres_base_url,
    serve_in_thread,
    settings_for,
)

H = OrgKeys.headers
TABLES = {
    "alembic_version",
    "api_keys",
    "organisations",
    "records",
    "record_findings",
    "record_events",
    "record_feedback",
    "users",
    "batch_jobs",
}


def letter(number: int) -> str:
    """A rejection with personal data and a marker that makes it unique."""
    return (
        "Beste Fatima,\n\n"
        f"Voor vacature XQ{number:03d} zoeken wij een stagiair van max. 22 jaar. "
        f"Bel 06-{12340000 + number}.\n\n"
        "Met vriendelijke groet,\nRichard Smeets"
    )


def letter_redacted(number: int) -> str:
    """What the record of `letter(number)` must hold."""
    return (
        "Beste [NAME],\n\n"
        f"Voor vacature XQ{number:03d} zoeken wij een stagiair van max. 22 jaar. "
        "Bel [PHONE].\n\n"
        "Met vriendelijke groet,\n[NAME]"
    )


def counts(url: str) -> dict[str, int]:
    """Rows per record table."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return {
                model.__tablename__: int(
                    session.scalar(select(func.count()).select_from(model)) or 0
                )
                for model in (Record, RecordFinding, RecordEvent, Feedback)
            }
    finally:
        engine.dispose()


def make_app(url: str, tmp_path: Path, rules: Analyzer, **overrides: Any) -> FastAPI:
    """The app on database `url`, rules-only, auth on."""
    return create_app(
        settings_for(tmp_path / "data", database_url=url, **overrides), analyzer=rules
    )


# -- migrations ----------------------------------------------------------------------------


def test_migrations_from_empty_match_the_models_and_go_down_again(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert schema_status(engine).current is None
        # The start-up check names the head without parsing the migrations: it must be theirs.
        assert alembic_head() == head_revision() == "0004_batch_jobs"
        assert upgrade(empty_database_url).current == head_revision()
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == TABLES
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        for target in ("0001_api_keys", "base"):
            with engine.begin() as connection:
                config = alembic_config(empty_database_url)
                config.attributes["connection"] = connection
                command.downgrade(config, target)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        assert upgrade(empty_database_url).up_to_date
    finally:
        engine.dispose()


def test_upgrading_a_0001_database_keeps_its_keys(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config(empty_database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "0001_api_keys")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_keys (name, prefix, key_hash, created_at) "
                    "VALUES ('portal', 'sc_old', :hash, :now)"
                ),
                {"hash": hash_secret("sc_old-secret"), "now": utcnow().replace(tzinfo=None)},
            )
        upgrade(empty_database_url)
        with make_session_factory(engine)() as session:
            key = find_key(session, "sc_old-secret")
            assert key is not None and key.name == "portal"
            assert key.organisation is None and key.role is None
    finally:
        engine.dispose()


# -- concurrency ---------------------------------------------------------------------------


def test_200_concurrent_stored_analyses_over_http_lose_nothing(
    database_url: str, tmp_path: Path, rules: Analyzer
) -> None:
    keys = add_org_keys(database_url)
    app = make_app(database_url, tmp_path, rules, analysis_threads=2)
    total = 200

    async def send_all(base: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/analyze",
                        json={
                            "text": letter(i),
                            "kind": "rejection",
                            "store": True,
                            "id": f"msg-{i}",
                            "company": {"kvk": f"{10000000 + i}", "name": f"Bedrijf {i}"},
                        },
                        headers=H(keys.officer_a if i % 2 else keys.officer_b),
                    )
                    for i in range(total)
                )
            )

    started = time.monotonic()
    with serve_in_thread(app) as base:
        responses = asyncio.run(send_all(base))
    elapsed = time.monotonic() - started
    assert [r.status_code for r in responses] == [200] * total
    sent = {r.json()["record_id"]: int(r.json()["id"].split("-")[1]) for r in responses}
    assert len(sent) == total

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            records = {r.id: r for r in session.scalars(select(Record))}
            assert set(records) == set(sent)
            for record_id, number in sent.items():
                record = records[record_id]
                assert record.text == letter_redacted(number)
                assert record.external_id == f"msg-{number}"
                assert record.company_kvk == f"{10000000 + number}"
                assert record.organisation.name == ("ROC Alfa" if number % 2 else "ROC Beta")
                (finding,) = record.analysis["findings"]
                assert record.text[finding["start"] : finding["end"]] == finding["quote"]
                assert finding["quote"] == "max. 22 jaar"
    finally:
        engine.dispose()
    assert counts(database_url) == {
        "records": total,
        "record_findings": total,
        "record_events": total,
        "record_feedback": 0,
    }
    assert elapsed < 120, f"200 stored analyses took {elapsed:.1f} s"


# -- the database going away ---------------------------------------------------------------


@contextmanager
def database_away(url: str, app: FastAPI) -> Iterator[None]:
    """Make the database unreachable for the app, and bring it back afterwards.

    PostgreSQL: the database refuses connections and its sessions are terminated. SQLite: the
    data directory disappears and the app's open connections are closed.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(str(parsed.database)).parent
        away = folder.with_name(folder.name + "-away")
        folder.rename(away)
        app.state.service.engine.dispose()
        try:
            yield
        finally:
            away.rename(folder)
        return
    name = parsed.database
    admin = create_engine(postgres_base_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_database_going_away_and_coming_back(
    database_url: str, tmp_path: Path, rules: Analyzer, caplog: pytest.LogCaptureFixture
) -> None:
    keys = add_org_keys(database_url)
    app = make_app(database_url, tmp_path, rules)
    stored: list[int] = []

    def store(client: TestClient, number: int, key: str) -> httpx.Response:
        body = {"text": letter(number), "kind": "rejection", "store": True}
        response = client.post("/v1/analyze", json=body, headers=H(key))
        if response.status_code == 200:
            stored.append(number)
        return response

    with TestClient(app, raise_server_exceptions=False) as client:
        for number in range(3):
            assert store(client, number, keys.officer_a).status_code == 200
        assert client.get("/ready").status_code == 200

        with database_away(database_url, app):
            ready = client.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "unreachable"
            for number in range(3, 8):
                failed = store(client, number, keys.officer_a)
                assert failed.status_code == 503
                assert failed.headers["content-type"] == "application/problem+json"
                assert failed.json()["type"] == "/problems/service-unavailable"
            # Analysis without store goes on for a key seen before the database went away.
            plain = client.post("/v1/analyze", json={"text": letter(99)}, headers=H(keys.officer_a))
            assert plain.status_code == 200 and plain.json()["verdict"] == "reject"
            # A key never seen cannot be checked, and records cannot be read.
            unseen = client.post(
                "/v1/analyze", json={"text": letter(99)}, headers=H(keys.officer_b)
            )
            assert unseen.status_code == 503
            assert client.get("/v1/records", headers=H(keys.officer_a)).status_code == 503

        deadline = time.monotonic() + 20
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "the service did not see the database come back"
            time.sleep(0.2)
        for number in range(8, 11):
            assert store(client, number, keys.officer_a).status_code == 200
        listing = client.get("/v1/records?limit=200", headers=H(keys.officer_a)).json()

    assert stored == [0, 1, 2, 8, 9, 10]
    assert listing["total"] == len(stored)
    assert counts(database_url) == {
        "records": 6,
        "record_findings": 6,
        "record_events": 6,
        "record_feedback": 0,
    }
    assert "Fatima" not in caplog.text and "06-1234" not in caplog.text


def test_a_failure_between_two_inserts_leaves_nothing_half_written(
    database_url: str, tmp_path: Path, rules: Analyzer
) -> None:
    keys = add_org_keys(database_url)
    app = make_app(database_url, tmp_path, rules)
    fail = {"on": True}

    def cut_off(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if fail["on"] and statement.lstrip().upper().startswith("INSERT INTO RECORD_FINDINGS"):
            raise OperationalError(
                statement, {}, ConnectionError("connection lost mid-transaction")
            )

    with TestClient(app, raise_server_exceptions=False) as client:
        engine = app.state.service.engine
        event.listen(engine, "before_cursor_execute", cut_off)
        try:
            body = {"text": letter(1), "store": True}
            response = client.post("/v1/analyze", json=body, headers=H(keys.officer_a))
            assert response.status_code == 503
            assert counts(database_url)["records"] == 0
            fail["on"] = False
            assert (
                client.post("/v1/analyze", json=body, headers=H(keys.officer_a)).status_code == 200
            )
        finally:
            event.remove(engine, "before_cursor_execute", cut_off)
    assert counts(database_url) == {
        "records": 1,
        "record_findings": 1,
        "record_events": 1,
        "record_feedback": 0,
    }


# -- retention -----------------------------------------------------------------------------


def _organisation_id(url: str, name: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            value = connection.execute(
                text("SELECT id FROM organisations WHERE name = :name"), {"name": name}
            ).scalar_one()
            return int(value)
    finally:
        engine.dispose()


def seed(url: str, ages_in_days: list[int], organisation: str = "ROC Alfa") -> list[str]:
    """Records made `ages_in_days` ago, each with a finding, history and feedback."""
    organisation_id = _organisation_id(url, organisation)
    engine = make_engine(url)
    ids: list[str] = []
    try:
        sessions = make_session_factory(engine)
        actor = Actor(key_id=None, label="test")
        for age in ages_in_days:
            with sessions() as session:
                analysis = {
                    "id": None,
                    "kind": "vacancy",
                    "lang": "nl",
                    "verdict": "reject",
                    "risk": 0.9,
                    "findings": [
                        {
                            "ground": "age",
                            "severity": "explicit",
                            "start": 0,
                            "end": 12,
                            "quote": "max. 22 jaar",
                            "score": 0.9,
                            "source": "rule",
                            "explanation": "x",
                            "legal_basis": "WGBL art. 3",
                        }
                    ],
                    "model_version": "test",
                }
                new = NewRecord(
                    organisation_id=organisation_id,
                    text="max. 22 jaar, geen hoofddoek",
                    analysis=analysis,
                    redactions={},
                    company_kvk="12345678",
                    company_name=f"Bakkerij {age}",
                )
                (record_id,) = add_records(
                    session, [new], actor, now=utcnow() - timedelta(days=age)
                )
                record = get_record(session, Scope(None), record_id)
                assert record is not None
                add_feedback(
                    session,
                    record,
                    actor,
                    [FindingJudgement(0, "correct")],
                    [MissedPhrase("geen hoofddoek", "religion", "explicit")],
                )
                ids.append(record_id)
    finally:
        engine.dispose()
    return ids


def test_purge_deletes_records_past_retention_with_everything_attached(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    add_org_keys(database_url)
    old_one, old_two, recent = seed(database_url, [800, 731, 30])
    caplog.set_level(logging.INFO, logger="service.state")
    engine = make_engine(database_url)
    try:
        assert purge_expired(make_session_factory(engine), 730) == 2
        assert purge_expired(make_session_factory(engine), 730) == 0
    finally:
        engine.dispose()
    assert counts(database_url) == {
        "records": 1,
        "record_findings": 1,
        "record_events": 1,
        "record_feedback": 2,
    }
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        assert [r.id for r in session.scalars(select(Record))] == [recent]
    engine.dispose()
    messages = [r.getMessage() for r in caplog.records if r.name == "service.state"]
    assert any("deleted 2 record(s) older than 730 days" in m for m in messages)
    assert not any("hoofddoek" in m or old_one in m or old_two in m for m in messages)


def test_the_service_purges_by_itself(
    tmp_path: Path, rules: Analyzer, data_dir: Path, org_keys: OrgKeys
) -> None:
    url = f"sqlite:///{data_dir / 'stagecheck.db'}"
    seed(url, [10, 3])
    app = create_app(
        settings_for(data_dir, retention_days=5, purge_interval_hours=0.0003), analyzer=rules
    )
    with TestClient(app):
        deadline = time.monotonic() + 15
        while counts(url)["records"] != 1:
            assert time.monotonic() < deadline, "the daily purge did not run"
            time.sleep(0.1)


def test_statistics_and_companies_in_both_dialects(database_url: str) -> None:
    add_org_keys(database_url)
    seed(database_url, [40, 10, 9])
    seed(database_url, [5], organisation="ROC Beta")
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            alfa = Scope(_organisation_id(database_url, "ROC Alfa"))
            total, months = record_stats(session, alfa, "month")
            assert total.records == 3 and total.findings == 3
            assert sum(g.tally.records for g in months) == 3
            assert all(len(str(g.key)) == 7 and str(g.key)[4] == "-" for g in months)
            _, grounds = record_stats(session, alfa, "ground")
            assert [(g.key, g.tally.records) for g in grounds] == [("age", 3)]
            _, everyone = record_stats(session, Scope(None), "company")
            assert [(g.key, g.tally.records, g.tally.verdicts["reject"]) for g in everyone] == [
                ("12345678", 4, 4)
            ]
            recent_only = record_stats(session, alfa, "kind", start=utcnow() - timedelta(days=20))[
                0
            ]
            assert recent_only.records == 2
            overview = company_overview(session, alfa, "12345678")
            assert overview is not None and overview.total.records == 3
            assert len(overview.names) == 3 and overview.by_ground == {"age": 3}
            assert sum(t.records for t in overview.by_month.values()) == 3
    finally:
        engine.dispose()


def test_without_a_postgres_url_the_suite_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STAGECHECK_TEST_POSTGRES_URL", raising=False)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="STAGECHECK_TEST_POSTGRES_URL is not set"):
        postgres_base_url()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="STAGECHECK_TEST_POSTGRES_URL is not set"):
        postgres_base_url()
    monkeypatch.setenv("STAGECHECK_TEST_POSTGRES_URL", "postgresql+psycopg://app@h/db")
    assert postgres_base_url() == "postgresql+psycopg://app@h/db"
