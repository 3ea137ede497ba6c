"""Faults: the server killed mid-write, PostgreSQL stopping and coming back, a short soak.

Real processes on loopback: `stagecheck serve` in a child process (bench/serverlib.py), a
PostgreSQL cluster of the test's own for the outage (it is stopped and started for real),
and bench/soak.py for a short run (STAGECHECK_SOAK_SECONDS, default 15; the full script runs
five minutes). Like the rest of the storage suite, the PostgreSQL half fails with CI=true
when it cannot run, and is skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from service.store.db import make_engine
from service.store.migrate import upgrade
from tests.service.conftest import OrgKeys, add_org_keys, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from serverlib import Server, postgres_bin, postgres_cluster  # noqa: E402

pytestmark = pytest.mark.slow
H = OrgKeys.headers
BATCH = 10
LETTER = (
    "Beste Fatima,\n\nHelaas zoeken wij een stagiair van max. 22 jaar, zonder hoofddoek. "
    "Bel 06-12345678.\n\nMet vriendelijke groet,\nRichard Smeets"
)


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# -- SIGKILL during stored batches --------------------------------------------------------


def _integrity(url: str) -> dict[str, Any]:
    """Per record: its external id, its analysis's findings, finding rows and events."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT r.id, r.external_id, r.text, r.analysis, "
                    "(SELECT count(*) FROM record_findings f WHERE f.record_id = r.id), "
                    "(SELECT count(*) FROM record_events e WHERE e.record_id = r.id) "
                    "FROM records r"
                )
            ).all()
    finally:
        engine.dispose()
    out = {}
    for record_id, external_id, stored_text, analysis, finding_rows, events in rows:
        if isinstance(analysis, str):
            analysis = json.loads(analysis)
        out[record_id] = {
            "external_id": external_id,
            "text": stored_text,
            "findings": analysis["findings"],
            "finding_rows": finding_rows,
            "events": events,
        }
    return out


def test_sigkill_during_stored_batches_loses_nothing_acknowledged(
    database_url: str, tmp_path: Path
) -> None:
    keys = add_org_keys(database_url)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = Server(data_dir, database_url, tmp_path / "server.log")
    server.start()
    acknowledged: dict[str, str] = {}  # record id -> external id
    sent_batches: list[str] = []
    stop = threading.Event()

    def send(worker: int) -> None:
        number = 0
        with httpx.Client(base_url=server.base, timeout=30) as client:
            while not stop.is_set():
                batch = f"w{worker}b{number}"
                number += 1
                items = [
                    {"text": LETTER, "store": True, "kind": "rejection", "id": f"{batch}-{i}"}
                    for i in range(BATCH)
                ]
                sent_batches.append(batch)
                try:
                    response = client.post(
                        "/v1/analyze/batch", json={"items": items}, headers=H(keys.officer_a)
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    for result in response.json()["results"]:
                        acknowledged[result["record_id"]] = result["id"]

    try:
        senders = [threading.Thread(target=send, args=(n,)) for n in range(3)]
        for thread in senders:
            thread.start()
        # Kill once some batches were acknowledged and others are in flight.
        deadline = time.monotonic() + 60
        while len(acknowledged) < 3 * BATCH and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        server.kill()
        stop.set()
        for thread in senders:
            thread.join(timeout=30)
        assert acknowledged, "no batch was acknowledged before the kill"

        server.start()
        stored = _integrity(database_url)
        # Every acknowledged record is there, readable and intact.
        missing = set(acknowledged) - set(stored)
        assert not missing, f"{len(missing)} acknowledged record(s) lost"
        with httpx.Client(base_url=server.base, timeout=30) as client:
            for record_id in list(acknowledged)[:20]:
                record = client.get(f"/v1/records/{record_id}", headers=H(keys.officer_a))
                assert record.status_code == 200
        for record_id, record in stored.items():
            assert record["finding_rows"] == len(record["findings"]) > 0, record_id
            assert record["events"] == 1, record_id
            for finding in record["findings"]:
                assert record["text"][finding["start"] : finding["end"]] == finding["quote"]
            assert "Fatima" not in record["text"]
        # A batch is one transaction: all of its records, or none.
        per_batch: dict[str, int] = {}
        for record in stored.values():
            batch = record["external_id"].rsplit("-", 1)[0]
            per_batch[batch] = per_batch.get(batch, 0) + 1
        assert all(count == BATCH for count in per_batch.values()), per_batch
        assert set(per_batch) <= set(sent_batches)
    finally:
        server.kill()


# -- PostgreSQL stops and comes back -------------------------------------------------------


def test_postgres_stopping_and_coming_back(tmp_path: Path) -> None:
    if postgres_bin() is None:
        _unavailable("PostgreSQL is not installed: the outage test did not run")
    with postgres_cluster() as cluster:
        upgrade(cluster.url)
        keys = add_org_keys(cluster.url)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        server = Server(data_dir, cluster.url, tmp_path / "server.log")
        server.start()
        headers = H(keys.officer_a)
        body = {"text": LETTER, "kind": "rejection"}
        try:
            with httpx.Client(base_url=server.base, timeout=30) as client:
                assert client.post("/v1/analyze", json=body, headers=headers).status_code == 200
                kept = client.post("/v1/analyze", json={**body, "store": True}, headers=headers)
                assert kept.status_code == 200

                cluster.stop("immediate")
                analysed = client.post("/v1/analyze", json=body, headers=headers)
                assert analysed.status_code == 200 and analysed.json()["verdict"] == "reject"
                refused = client.post("/v1/analyze", json={**body, "store": True}, headers=headers)
                assert refused.status_code == 503
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["type"] == "/problems/service-unavailable"
                batch = client.post(
                    "/v1/analyze/batch",
                    json={"items": [{**body, "store": True}, {**body, "store": True}]},
                    headers=headers,
                )
                # The batch answers; its stored items get the 503, and none is kept.
                assert batch.status_code == 200
                results = batch.json()["results"]
                assert [r["error"]["status"] for r in results] == [503, 503]
                ready = client.get("/ready")
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"] == "unreachable"
                assert "database" in ready.json()["detail"]
                assert client.get("/health").status_code == 200

                cluster.start()
                deadline = time.monotonic() + 30
                while client.get("/ready").status_code != 200:
                    assert time.monotonic() < deadline, "not ready after PostgreSQL came back"
                    time.sleep(0.2)
                again = client.post("/v1/analyze", json={**body, "store": True}, headers=headers)
                assert again.status_code == 200
                listing = client.get("/v1/records", headers=headers).json()
                assert listing["total"] == 2
        finally:
            server.kill()
    assert "Fatima" not in (tmp_path / "server.log").read_text()


# -- a short soak ---------------------------------------------------------------------------


def test_a_short_soak_on_postgres_keeps_every_record_and_its_memory() -> None:
    seconds = os.environ.get("STAGECHECK_SOAK_SECONDS", "15")
    with scratch_postgres_database() as url:
        upgrade_needed = url  # soak.py migrates the empty database itself
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "soak.py"),
                *("--duration", seconds, "--rate", "10", "--database-url", upgrade_needed),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=float(seconds) + 240,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: ok" in result.stdout
