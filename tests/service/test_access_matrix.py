"""Access control: every route against every kind of caller, and across schools.

ROC Alfa keeps a record about a company no other school has seen. Every operation of the
OpenAPI document (the table below must list them all) is called by no key, a revoked and an
expired key, a key without organisation, Alfa's officer and admin, Beta's officer and admin,
and SBB. The rules:

- the status each caller gets is the one in the table;
- Beta's keys get for Alfa's record, company or key exactly what they get for one that does
  not exist (same status, type and detail), so nothing reveals that it exists;
- no response to a caller outside Alfa (SBB aside) holds Alfa's record id, company name or KvK
  number, whatever the route: lists, searches, statistics and exports included.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import DATABASE_FILE
from service.store.db import make_engine, make_session_factory
from service.store.keys import create_key, revoke_key
from service.store.models import utcnow
from tests.service.conftest import MakeClient, OrgKeys

H = OrgKeys.headers
KVK = "31415926"
COMPANY = {"kvk": KVK, "name": "Geheimbakkerij Zwaluw", "location": "Zwolle"}
MISSING_RECORD = "00000000-0000-4000-8000-000000000000"
MISSING_KVK = "27182818"
TEXT = "Wij zoeken een stagiair van max. 22 jaar voor onze bakkerij."

ROLES = (
    "none",
    "revoked",
    "expired",
    "plain",
    "officer_a",
    "admin_a",
    "officer_b",
    "admin_b",
    "sbb",
)
ALFA = {"officer_a", "admin_a"}
SEES_ALFA = ALFA | {"sbb"}
BETA = {"officer_b", "admin_b"}

# Expected status per operation: a default for keys that work, and exceptions by role.
# `record`, `kvk` and `key` stand for Alfa's; Beta's answer is compared with a missing one.
Call = tuple[str, str, Any]


def expected(op: str, role: str) -> int:
    """The status `role` must get for operation `op` on Alfa's resources."""
    if op.startswith("public "):
        return 200
    if role in ("none", "revoked", "expired"):
        return 401
    open_to_any_key = {"analyze", "batch", "grounds", "model"}
    if op in open_to_any_key:
        return 200
    if role == "plain":
        return 403
    table: dict[str, dict[str, int]] = {
        "records": {},
        "record": {"officer_b": 404, "admin_b": 404},
        "patch": {"officer_b": 404, "admin_b": 404, "sbb": 403},
        "feedback": {"officer_b": 404, "admin_b": 404, "sbb": 403},
        "delete": {"officer_a": 403, "officer_b": 404, "admin_b": 404, "sbb": 403},
        "company": {"officer_b": 404, "admin_b": 404},
        "companies": {},
        "stats": {},
        "csv": {},
        "xlsx": {},
        "organisation": {},
        "key create": {"officer_a": 403, "officer_b": 403, "sbb": 403},
        "key revoke": {"officer_a": 403, "officer_b": 403, "admin_b": 404, "sbb": 403},
    }
    success = {"feedback": 201, "key create": 201, "delete": 204, "key revoke": 204}
    return table[op].get(role, success.get(op, 200))


def operations(record: str, kvk: str, key_id: int) -> dict[str, Call]:
    """Every operation of the API, with Alfa's record, company and key filled in."""
    return {
        "analyze": ("POST", "/v1/analyze", {"text": TEXT}),
        "batch": ("POST", "/v1/analyze/batch", {"items": [{"text": TEXT}]}),
        "grounds": ("GET", "/v1/grounds", None),
        "model": ("GET", "/v1/model", None),
        "records": ("GET", "/v1/records", None),
        "record": ("GET", f"/v1/records/{record}", None),
        "patch": ("PATCH", f"/v1/records/{record}", {"status": "company_contacted"}),
        "feedback": (
            "POST",
            f"/v1/records/{record}/feedback",
            {"findings": [{"index": 0, "assessment": "correct"}]},
        ),
        "delete": ("DELETE", f"/v1/records/{record}", None),
        "company": ("GET", f"/v1/companies/{kvk}", None),
        "companies": ("GET", "/v1/companies?q=Zwaluw", None),
        "stats": ("GET", "/v1/stats?group_by=company", None),
        "csv": ("GET", "/v1/stats/export.csv?group_by=company", None),
        "xlsx": ("GET", "/v1/stats/export.xlsx", None),
        "organisation": ("GET", "/v1/organisation", None),
        "key create": ("POST", "/v1/keys", {"name": "portal", "role": "officer"}),
        "key revoke": ("DELETE", f"/v1/keys/{key_id}", None),
        "public health": ("GET", "/health", None),
        "public ready": ("GET", "/ready", None),
        "public metrics": ("GET", "/metrics", None),
        "public problems": ("GET", "/problems", None),
        "public problem": ("GET", "/problems/not-found", None),
        "public docs": ("GET", "/docs", None),
        "public openapi": ("GET", "/openapi.json", None),
        "public home": ("GET", "/", None),
    }


def _templates(calls: dict[str, Call]) -> set[tuple[str, str]]:
    import re

    replaced = set()
    for method, path, _ in calls.values():
        path = path.split("?")[0]
        path = re.sub(r"/v1/records/[^/]+", "/v1/records/{record_id}", path)
        path = re.sub(r"/v1/companies/\d+", "/v1/companies/{kvk}", path)
        path = re.sub(r"/v1/keys/\d+", "/v1/keys/{key_id}", path)
        path = re.sub(r"/problems/[a-z-]+", "/problems/{slug}", path)
        replaced.add((method, path))
    return replaced


@pytest.fixture
def secrets(org_keys: OrgKeys, data_dir: Path) -> dict[str, str | None]:
    """A key secret per role (None: no key), with a revoked and an expired key of Alfa."""
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    try:
        with make_session_factory(engine)() as session:
            revoked_key, revoked = create_key(session, "revoked")
            revoke_key(session, str(revoked_key.id))
            _, expired = create_key(session, "expired", expires_at=utcnow() - timedelta(days=1))
    finally:
        engine.dispose()
    return {
        "none": None,
        "revoked": revoked,
        "expired": expired,
        **{role: getattr(org_keys, role) for role in ROLES[3:]},
    }


def _readable(response: Any) -> bytes:
    """The body, with an XLSX workbook (a zip) unpacked so that its cells can be searched."""
    import io
    import zipfile

    if not response.content.startswith(b"PK"):
        return bytes(response.content)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def _call(client: TestClient, call: Call, secret: str | None) -> Any:
    method, path, body = call
    headers = H(secret) if secret else {}
    return client.request(method, path, json=body, headers=headers)


def _problem(response: Any, *ids: str) -> tuple[int, str, str]:
    body = response.json()
    detail = str(body.get("detail", ""))
    for value in ids:
        detail = detail.replace(value, "<id>")
    return response.status_code, body.get("type", ""), detail


def test_every_route_against_every_role(
    make_client: MakeClient, org_keys: OrgKeys, secrets: dict[str, str | None]
) -> None:
    with make_client(rate_limit_per_minute=0) as client:
        documented = {
            (method.upper(), path)
            for path, item in client.get("/openapi.json").json()["paths"].items()
            for method in item
        }
        alfa_admin = client.get("/v1/organisation", headers=H(org_keys.admin_a)).json()
        officer_key_id = next(k["id"] for k in alfa_admin["keys"] if k["role"] == "officer")
        listed = operations("x", KVK, officer_key_id)
        missing_from_table = documented - _templates(listed)
        assert not missing_from_table, f"add these routes to the matrix: {missing_from_table}"

        failures: list[str] = []
        for role in ROLES:
            # A fresh record of Alfa (and Alfa's officer key) for every role, so that deleting
            # or revoking in one row leaves the next rows something to try.
            stored = client.post(
                "/v1/analyze",
                json={"text": TEXT, "store": True, "company": COMPANY},
                headers=H(org_keys.officer_a),
            ).json()
            record = stored["record_id"]
            key_id = _fresh_officer_key(client, org_keys)
            calls = operations(record, KVK, key_id)
            absent = operations(MISSING_RECORD, MISSING_KVK, 999_999)
            secret = secrets[role]
            for op, call in calls.items():
                response = _call(client, call, secret)
                want = expected(op, role)
                if response.status_code != want:
                    failures.append(f"{role} {op}: {response.status_code}, expected {want}")
                    continue
                if role not in SEES_ALFA and not op.startswith("public"):
                    # What the caller put in the path may be echoed; nothing else of Alfa's.
                    hidden = [v for v in (record, COMPANY["name"], KVK) if v not in call[1]]
                    content = _readable(response)
                    leaked = [v for v in hidden if v.encode() in content]
                    if leaked:
                        failures.append(f"{role} {op}: response reveals {leaked}")
                # The control: the same search finds what the caller may see.
                visible = role in SEES_ALFA and op in {"records", "companies", "csv", "xlsx"}
                if visible and COMPANY["name"].encode() not in _readable(response):
                    failures.append(f"{role} {op}: does not show Alfa's company")
                if (
                    role in BETA
                    and want >= 400
                    and op in {"record", "patch", "feedback", "delete", "company", "key revoke"}
                ):
                    other = _call(client, absent[op], secret)
                    ids = (record, MISSING_RECORD, KVK, MISSING_KVK, str(key_id), "999999")
                    if _problem(response, *ids) != _problem(other, *ids):
                        failures.append(f"{role} {op}: differs from a missing one")
                problem = response.headers.get("content-type") == "application/problem+json"
                if response.status_code >= 400 and not problem:
                    failures.append(f"{role} {op}: error is not problem+json")
        assert not failures, "\n".join(failures)


def _fresh_officer_key(client: TestClient, org_keys: OrgKeys) -> int:
    made = client.post(
        "/v1/keys", json={"name": "victim", "role": "officer"}, headers=H(org_keys.admin_a)
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_rate_limits_hold_per_key(make_client: MakeClient, org_keys: OrgKeys) -> None:
    with make_client(rate_limit_per_minute=3) as client:

        def grounds(secret: str) -> int:
            return client.get("/v1/grounds", headers=H(secret)).status_code

        assert [grounds(org_keys.officer_a) for _ in range(4)] == [200, 200, 200, 429]
        # Another key, even of the same school, has its own budget.
        assert grounds(org_keys.admin_a) == 200 and grounds(org_keys.officer_b) == 200
        # Sending the same key another way does not reset it.
        limited = client.get("/v1/grounds", headers={"X-API-Key": org_keys.officer_a})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_no_secret_is_stored_in_clear(
    make_client: MakeClient, secrets: dict[str, str | None], data_dir: Path
) -> None:
    with make_client() as client:
        made = client.post(
            "/v1/keys",
            json={"name": "new portal", "role": "officer"},
            headers=H(str(secrets["admin_a"])),
        ).json()["key"]
    raw = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.is_file())
    for secret in [made, *(s for s in secrets.values() if s)]:
        assert secret.encode() not in raw
        assert secret[8:].encode() not in raw  # not even the part after the prefix
