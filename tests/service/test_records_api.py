"""Records over the API: storing, isolation between schools, follow-up, feedback, roles.

Every record route is tried with another school's key: the answer must be the same 404 as
for a record that does not exist, so nobody learns that the record is there.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import MakeClient, OrgKeys

H = OrgKeys.headers

LETTER = (
    "Beste Fatima,\n\n"
    "Bedankt voor je sollicitatie. Wij zoeken toch iemand van max. 22 jaar, en liever zonder "
    "hoofddoek. Bel gerust 06-12345678 of mail fatima.elamrani@student.example.nl.\n\n"
    "Met vriendelijke groet,\nRichard Smeets\nBakkerij Jansen"
)
SECRETS = ("Fatima", "06-12345678", "fatima.elamrani", "Smeets")
COMPANY = {"kvk": "12345678", "name": "Bakkerij Jansen", "location": "Utrecht"}


def store(client: TestClient, key: str, text: str = LETTER, **fields: Any) -> dict[str, Any]:
    """Store one analysis; returns the response body."""
    body = {"text": text, "kind": "rejection", "store": True, **fields}
    response = client.post("/v1/analyze", json=body, headers=H(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def client(make_client: MakeClient, org_keys: OrgKeys) -> Iterator[TestClient]:
    """A started app whose database holds two schools and SBB with keys."""
    with make_client() as started:
        yield started


# -- storing -------------------------------------------------------------------------------


def test_store_returns_the_analysis_of_the_sent_text_and_a_record_id(
    client: TestClient, org_keys: OrgKeys
) -> None:
    plain = client.post(
        "/v1/analyze", json={"text": LETTER, "kind": "rejection"}, headers=H(org_keys.officer_a)
    ).json()
    stored = store(
        client, org_keys.officer_a, company=COMPANY, reference="https://portal/v/1", id="msg-1"
    )
    assert "record_id" not in plain
    record_id = stored.pop("record_id")
    assert stored == plain | {"id": "msg-1"}
    for finding in stored["findings"]:
        assert LETTER[finding["start"] : finding["end"]] == finding["quote"]

    record = client.get(f"/v1/records/{record_id}", headers=H(org_keys.officer_a)).json()
    assert record["organisation"] == "ROC Alfa"
    assert record["status"] == "open" and record["external_id"] == "msg-1"
    assert record["company"] == COMPANY and record["reference"] == "https://portal/v/1"
    assert record["redactions"] == {"email": 1, "name": 2, "phone": 1}
    assert record["text"].startswith("Beste [NAME],")
    for secret in SECRETS:
        assert secret not in record["text"]
    analysis = record["analysis"]
    assert analysis["model_version"] == plain["model_version"]
    assert [f["quote"] for f in analysis["findings"]] == [f["quote"] for f in plain["findings"]]
    for finding in analysis["findings"]:
        assert record["text"][finding["start"] : finding["end"]] == finding["quote"]
    assert record["history"][0]["action"] == "created"
    assert record["history"][0]["by"].startswith("officer Alfa (sc_")


def test_the_unredacted_text_is_never_written_or_logged(
    client: TestClient, org_keys: OrgKeys, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    record_id = store(client, org_keys.officer_a, explain=True)["record_id"]
    client.get(f"/v1/records/{record_id}", headers=H(org_keys.officer_a))
    client.app.state.service.engine.dispose()  # type: ignore[attr-defined]
    written = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.is_file())
    assert b"[PHONE]" in written  # the redacted text is there ...
    for secret in SECRETS:
        assert secret.encode() not in written  # ... the personal data is not
        assert secret not in caplog.text


def test_html_is_stored_as_its_redacted_visible_text(client: TestClient, org_keys: OrgKeys) -> None:
    html = "<p>Hoi <b>Sven</b>,</p><p>Je bent max. 22 jaar? Bel <i>06-12345678</i>.</p>"
    stored = store(client, org_keys.officer_a, text=html, content_type="text/html")
    assert "Sven" in stored["text"]  # the caller gets its own extracted text back
    record = client.get(f"/v1/records/{stored['record_id']}", headers=H(org_keys.officer_a)).json()
    assert "<p>" not in record["text"] and "06-12345678" not in record["text"]
    for finding in record["analysis"]["findings"]:
        assert record["text"][finding["start"] : finding["end"]] == finding["quote"]
    assert "text" not in record["analysis"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"company": {"kvk": "1234567", "name": "X"}}, "company.kvk"),
        ({"company": {"kvk": "1234567a", "name": "X"}}, "company.kvk"),
        ({"company": {"kvk": 12345678, "name": "X"}}, "company.kvk"),
        ({"company": {"kvk": "12345678"}}, "company.name"),
        ({"company": {"kvk": "12345678", "name": "X", "sector": "horeca"}}, "company.sector"),
        ({"reference": "x" * 2001}, "reference"),
        ({"reference": "sollicitatie van j.devries@gmail.com"}, "reference"),
        ({"reference": "student 06-12345678"}, "reference"),
        ({"reference": "bsn 111222333"}, "reference"),
        ({"reference": "vac\x00-12"}, "reference"),
        ({"company": {"kvk": "12345678", "name": "X\x1b[31m"}}, "company.name"),
        (
            {"company": {"kvk": "12345678", "name": "X", "location": "bel 0612345678"}},
            "company.location",
        ),
        ({"id": "a\x07b"}, "id"),
    ],
)
def test_company_and_reference_are_validated(
    client: TestClient, org_keys: OrgKeys, fields: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/v1/analyze",
        json={"text": "Stagiair gezocht.", "store": True, **fields},
        headers=H(org_keys.officer_a),
    )
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_kvk_may_be_written_with_spaces(client: TestClient, org_keys: OrgKeys) -> None:
    stored = store(client, org_keys.officer_a, company={"kvk": "1234 5678", "name": "X"})
    record = client.get(f"/v1/records/{stored['record_id']}", headers=H(org_keys.officer_a)).json()
    assert record["company"]["kvk"] == "12345678"


def test_company_or_reference_without_store_is_refused(
    client: TestClient, org_keys: OrgKeys
) -> None:
    response = client.post(
        "/v1/analyze",
        json={"text": "Stagiair gezocht.", "company": COMPANY},
        headers=H(org_keys.officer_a),
    )
    assert response.status_code == 422
    assert "store: true" in response.json()["errors"][0]["message"]


def test_store_needs_a_key_of_an_organisation(
    client: TestClient, org_keys: OrgKeys, make_client: MakeClient
) -> None:
    response = client.post(
        "/v1/analyze", json={"text": LETTER, "store": True}, headers=H(org_keys.plain)
    )
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"
    assert "--org" in response.json()["detail"]
    # The same key analyses without storing, and sees no records.
    assert (
        client.post("/v1/analyze", json={"text": LETTER}, headers=H(org_keys.plain)).status_code
        == 200
    )
    assert client.get("/v1/records", headers=H(org_keys.plain)).status_code == 403
    with make_client(auth="disabled") as open_client:
        assert (
            open_client.post("/v1/analyze", json={"text": LETTER, "store": True}).status_code == 403
        )
        assert open_client.get("/v1/stats").status_code == 403


def test_batch_items_can_be_stored(client: TestClient, org_keys: OrgKeys, data_dir: Path) -> None:
    items = [
        {
            "id": "a",
            "text": "Wij zoeken een stagiair van max. 22 jaar. Bel 06-12345678.",
            "store": True,
        },
        {"id": "b", "text": "Stagiair receptie gezocht."},
        {"id": "c", "text": "Stagiair", "kind": "stage", "store": True},
        {"id": "d", "text": "Hoi Sven, je bent te oud.", "store": True, "company": COMPANY},
    ]
    body = client.post(
        "/v1/analyze/batch", json={"items": items}, headers=H(org_keys.officer_a)
    ).json()
    results = body["results"]
    assert body["failed"] == 1 and "error" in results[2]
    assert "record_id" in results[0] and "record_id" not in results[1] and "record_id" in results[3]
    listing = client.get("/v1/records", headers=H(org_keys.officer_a)).json()
    assert {r["id"] for r in listing["items"]} == {results[0]["record_id"], results[3]["record_id"]}
    plain = client.post(
        "/v1/analyze/batch", json={"items": items[:1]}, headers=H(org_keys.plain)
    ).json()
    assert plain["results"][0]["error"]["type"] == "/problems/forbidden"


# -- isolation between schools -----------------------------------------------------------


def _problem_without_request(response: Any, record_id: str) -> dict[str, Any]:
    """The problem body with the request's own id and path taken out."""
    body: dict[str, Any] = response.json()
    return {
        k: str(v).replace(record_id, "<id>")
        for k, v in body.items()
        if k not in ("request_id", "instance")
    }


def test_another_school_cannot_see_change_or_learn_of_a_record(
    client: TestClient, org_keys: OrgKeys
) -> None:
    record_id = store(client, org_keys.officer_a, company=COMPANY)["record_id"]
    missing = "00000000-0000-4000-8000-000000000000"
    for key in (org_keys.officer_b, org_keys.admin_b):
        calls = {
            "get": lambda rid, k=key: client.get(f"/v1/records/{rid}", headers=H(k)),
            "patch": lambda rid, k=key: client.patch(
                f"/v1/records/{rid}", json={"status": "resolved"}, headers=H(k)
            ),
            "feedback": lambda rid, k=key: client.post(
                f"/v1/records/{rid}/feedback",
                json={"findings": [{"index": 0, "assessment": "incorrect"}]},
                headers=H(k),
            ),
            "delete": lambda rid, k=key: client.delete(f"/v1/records/{rid}", headers=H(k)),
        }
        for name, call in calls.items():
            theirs, absent = call(record_id), call(missing)
            assert theirs.status_code == absent.status_code == 404, name
            assert _problem_without_request(theirs, record_id) == _problem_without_request(
                absent, missing
            ), name
        listing = client.get("/v1/records", headers=H(key)).json()
        assert listing["total"] == 0 and listing["items"] == []
        assert client.get("/v1/records?organisation=ROC Alfa", headers=H(key)).json()["total"] == 0
        company = client.get(f"/v1/companies/{COMPANY['kvk']}", headers=H(key))
        assert company.status_code == 404
        assert (
            client.get("/v1/companies/87654321", headers=H(key)).json()["type"]
            == company.json()["type"]
        )
        assert client.get("/v1/companies?q=Jansen", headers=H(key)).json() == {"items": []}
        assert client.get("/v1/companies?q=1234", headers=H(key)).json() == {"items": []}
        stats = client.get("/v1/stats?group_by=company", headers=H(key)).json()
        assert stats["records"] == 0 and stats["groups"] == [] and stats["scope"] == "ROC Beta"
        csv_export = client.get("/v1/stats/export.csv?group_by=company", headers=H(key)).text
        assert COMPANY["kvk"] not in csv_export
    # The record is untouched, and its own school still sees it.
    record = client.get(f"/v1/records/{record_id}", headers=H(org_keys.officer_a)).json()
    assert record["status"] == "open" and record["feedback"] == [] and len(record["history"]) == 1


def test_sbb_reads_every_school_but_changes_only_its_own(
    client: TestClient, org_keys: OrgKeys
) -> None:
    a = store(client, org_keys.officer_a, company=COMPANY)["record_id"]
    b = store(client, org_keys.officer_b, company=COMPANY)["record_id"]
    own = store(client, org_keys.sbb)["record_id"]
    listing = client.get("/v1/records", headers=H(org_keys.sbb)).json()
    assert {r["id"] for r in listing["items"]} == {a, b, own}
    only_beta = client.get("/v1/records?organisation=roc beta", headers=H(org_keys.sbb)).json()
    assert [r["id"] for r in only_beta["items"]] == [b]
    assert (
        client.get(f"/v1/records/{a}", headers=H(org_keys.sbb)).json()["organisation"] == "ROC Alfa"
    )
    company = client.get(f"/v1/companies/{COMPANY['kvk']}", headers=H(org_keys.sbb)).json()
    assert company["records"] == 2
    assert {r["organisation"] for r in company["recent"]} == {"ROC Alfa", "ROC Beta"}
    officer_view = client.get(
        f"/v1/companies/{COMPANY['kvk']}", headers=H(org_keys.officer_a)
    ).json()
    assert officer_view["records"] == 1
    stats = client.get("/v1/stats", headers=H(org_keys.sbb)).json()
    assert stats["records"] == 3 and stats["scope"] == "all organisations"

    patch = client.patch(f"/v1/records/{a}", json={"status": "resolved"}, headers=H(org_keys.sbb))
    assert patch.status_code == 403 and "ROC Alfa" in patch.json()["detail"]
    feedback = client.post(
        f"/v1/records/{a}/feedback",
        json={"missed": [{"quote": "hoofddoek", "ground": "religion"}]},
        headers=H(org_keys.sbb),
    )
    assert feedback.status_code == 403
    assert client.delete(f"/v1/records/{a}", headers=H(org_keys.sbb)).status_code == 403
    assert (
        client.patch(f"/v1/records/{own}", json={"note": "x"}, headers=H(org_keys.sbb)).status_code
        == 200
    )


def test_only_an_admin_deletes_and_only_its_own_schools_records(
    client: TestClient, org_keys: OrgKeys
) -> None:
    record_id = store(client, org_keys.officer_a)["record_id"]
    refused = client.delete(f"/v1/records/{record_id}", headers=H(org_keys.officer_a))
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert client.delete(f"/v1/records/{record_id}", headers=H(org_keys.admin_b)).status_code == 404
    assert client.delete(f"/v1/records/{record_id}", headers=H(org_keys.admin_a)).status_code == 204
    assert client.get(f"/v1/records/{record_id}", headers=H(org_keys.officer_a)).status_code == 404
    assert client.delete(f"/v1/records/{record_id}", headers=H(org_keys.admin_a)).status_code == 404


# -- follow-up and feedback ----------------------------------------------------------------


def test_status_and_note_changes_keep_a_history(client: TestClient, org_keys: OrgKeys) -> None:
    record_id = store(client, org_keys.officer_a)["record_id"]
    first = client.patch(
        f"/v1/records/{record_id}",
        json={"status": "company_contacted", "note": "Gebeld met de eigenaar."},
        headers=H(org_keys.officer_a),
    )
    assert first.status_code == 200
    second = client.patch(
        f"/v1/records/{record_id}", json={"status": "resolved"}, headers=H(org_keys.admin_a)
    ).json()
    assert second["status"] == "resolved" and second["note"] == "Gebeld met de eigenaar."
    history = second["history"]
    assert [(h["action"], h["status_before"], h["status"]) for h in history] == [
        ("created", None, "open"),
        ("updated", "open", "company_contacted"),
        ("updated", "company_contacted", "resolved"),
    ]
    assert history[1]["by"].startswith("officer Alfa") and history[2]["by"].startswith("admin Alfa")
    assert history[1]["note"] == "Gebeld met de eigenaar." and history[2]["note"] is None
    assert history[0]["at"] <= history[1]["at"] <= history[2]["at"]


@pytest.mark.parametrize(
    "body",
    [{}, {"status": "closed"}, {"status": "open", "owner": "me"}, {"note": "x" * 5001}],
)
def test_bad_changes_are_422(client: TestClient, org_keys: OrgKeys, body: dict[str, Any]) -> None:
    record_id = store(client, org_keys.officer_a)["record_id"]
    response = client.patch(f"/v1/records/{record_id}", json=body, headers=H(org_keys.officer_a))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_feedback_per_finding_and_missed_phrases(client: TestClient, org_keys: OrgKeys) -> None:
    stored = store(client, org_keys.officer_a)
    record_id, count = stored["record_id"], len(stored["findings"])
    assert count >= 1
    response = client.post(
        f"/v1/records/{record_id}/feedback",
        json={
            "findings": [{"index": 0, "assessment": "correct", "comment": "Klopt."}],
            "missed": [
                {"quote": "liever zonder hoofddoek", "ground": "religion", "severity": "explicit"}
            ],
        },
        headers=H(org_keys.officer_a),
    )
    assert response.status_code == 201
    feedback = response.json()["feedback"]
    assert feedback[0] == {
        "at": feedback[0]["at"],
        "by": feedback[0]["by"],
        "finding_index": 0,
        "assessment": "correct",
        "comment": "Klopt.",
        "missed": None,
    }
    assert feedback[1]["missed"] == {
        "quote": "liever zonder hoofddoek",
        "ground": "religion",
        "severity": "explicit",
        "comment": None,
    }

    bad = client.post(
        f"/v1/records/{record_id}/feedback",
        json={
            "findings": [{"index": count, "assessment": "correct"}],
            "missed": [{"quote": "Fatima", "ground": "origin"}],
        },
        headers=H(org_keys.officer_a),
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["findings[0].index", "missed[0].quote"]
    for body in (
        {},
        {"findings": [{"index": 0, "assessment": "maybe"}]},
        {"missed": [{"quote": "x", "ground": "weather"}]},
    ):
        response = client.post(
            f"/v1/records/{record_id}/feedback", json=body, headers=H(org_keys.officer_a)
        )
        assert response.status_code == 422, body


# -- listing -----------------------------------------------------------------------------


def test_list_filters_and_pages(client: TestClient, org_keys: OrgKeys) -> None:
    age = store(client, org_keys.officer_a, text="Stagiair gezocht, max. 22 jaar.", company=COMPANY)
    clean = store(
        client,
        org_keys.officer_a,
        text="Stagiair receptie gezocht. Je spreekt Nederlands op niveau B1.",
        company={"kvk": "87654321", "name": "Hotel De Zwaan"},
    )
    message = store(
        client, org_keys.officer_a, text="Hoi Sven, wij zoeken iemand van max. 21 jaar."
    )
    client.patch(
        f"/v1/records/{clean['record_id']}",
        json={"status": "no_action"},
        headers=H(org_keys.officer_a),
    )

    def ids(query: str) -> set[str]:
        response = client.get(f"/v1/records{query}", headers=H(org_keys.officer_a))
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["items"]}

    everything = {age["record_id"], clean["record_id"], message["record_id"]}
    assert ids("") == everything
    assert ids("?status=no_action") == {clean["record_id"]}
    assert ids("?ground=age") == {age["record_id"], message["record_id"]}
    assert ids("?ground=religion") == set()
    assert ids("?kind=rejection") == everything and ids("?kind=vacancy") == set()
    assert ids("?verdict=ok") == {clean["record_id"]}
    assert ids("?company=12345678") == {age["record_id"]}
    assert ids("?company=zwaan") == {clean["record_id"]}
    assert ids("?company=50%25") == set()
    assert ids("?from=2000-01-01&to=2000-12-31") == set()
    assert ids("?from=2000-01-01") == everything
    page = client.get("/v1/records?limit=2&offset=0", headers=H(org_keys.officer_a)).json()
    rest = client.get("/v1/records?limit=2&offset=2", headers=H(org_keys.officer_a)).json()
    assert page["total"] == rest["total"] == 3
    assert len(page["items"]) == 2 and len(rest["items"]) == 1
    assert {r["id"] for r in page["items"] + rest["items"]} == everything
    for query in (
        "?status=closed",
        "?limit=0",
        "?limit=201",
        "?from=yesterday",
        "?from=2026-02-01&to=2026-01-01",
    ):
        assert (
            client.get(f"/v1/records{query}", headers=H(org_keys.officer_a)).status_code == 422
        ), query


def test_companies_overview_and_search(client: TestClient, org_keys: OrgKeys) -> None:
    store(client, org_keys.officer_a, text="Stagiair gezocht, max. 22 jaar.", company=COMPANY)
    store(
        client,
        org_keys.officer_a,
        text="Geen hoofddoekjes bij ons.",
        company={"kvk": "12345678", "name": "Bakkerij Jansen B.V.", "location": "Zeist"},
    )
    overview = client.get("/v1/companies/12345678", headers=H(org_keys.officer_a)).json()
    assert overview["records"] == 2
    assert {n["name"] for n in overview["names"]} == {"Bakkerij Jansen", "Bakkerij Jansen B.V."}
    assert set(overview["locations"]) == {"Utrecht", "Zeist"}
    assert overview["verdicts"]["reject"] == 2
    assert overview["grounds"] == {"age": 1, "religion": 1}
    (month,) = overview["months"]
    assert month["records"] == 2 and month["grounds"] == {"age": 1, "religion": 1}
    assert overview["last_screening"] >= overview["first_screening"]
    assert len(overview["recent"]) == 2
    hits = client.get("/v1/companies?q=jansen", headers=H(org_keys.officer_a)).json()["items"]
    assert [(h["kvk"], h["name"], h["records"]) for h in hits] == [
        ("12345678", "Bakkerij Jansen B.V.", 2)
    ]
    assert (
        client.get("/v1/companies?q=1234", headers=H(org_keys.officer_a)).json()["items"][0]["kvk"]
        == "12345678"
    )
    assert (
        client.get("/v1/companies", headers=H(org_keys.officer_a)).json()["items"][0]["records"]
        == 2
    )
    assert client.get("/v1/companies/1234", headers=H(org_keys.officer_a)).status_code == 422


def test_statistics_and_exports(client: TestClient, org_keys: OrgKeys) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    store(client, org_keys.officer_a, text="Stagiair gezocht, max. 22 jaar.", company=COMPANY)
    store(client, org_keys.officer_a, text="Stagiair gezocht, max. 22 jaar, geen hoofddoek.")
    store(
        client,
        org_keys.officer_a,
        text="Stagiair receptie gezocht.",
        company={"kvk": "87654321", "name": '=HYPERLINK("http://x")'},
    )
    auth = H(org_keys.officer_a)
    by_ground = client.get("/v1/stats?group_by=ground", headers=auth).json()
    assert by_ground["records"] == 3 and by_ground["verdicts"] == {
        "reject": 2,
        "review": 0,
        "ok": 1,
    }
    groups = {g["key"]: g for g in by_ground["groups"]}
    assert groups["age"]["records"] == 2 and groups["religion"]["records"] == 1
    by_verdict = {
        g["key"]: g["records"]
        for g in client.get("/v1/stats?group_by=verdict", headers=auth).json()["groups"]
    }
    assert by_verdict == {"reject": 2, "ok": 1}
    by_kind = client.get("/v1/stats?group_by=kind", headers=auth).json()["groups"]
    assert [(g["key"], g["records"]) for g in by_kind] == [("rejection", 3)]
    months = client.get("/v1/stats?group_by=month&from=2020-01-01&to=", headers=auth).json()
    assert months["to"] is None
    assert months["from"] == "2020-01-01" and sum(g["records"] for g in months["groups"]) == 3
    companies = client.get("/v1/stats?group_by=company", headers=auth).json()["groups"]
    assert {(g["key"], g["label"]) for g in companies} == {
        ("12345678", "Bakkerij Jansen"),
        ("87654321", '=HYPERLINK("http://x")'),
        (None, None),
    }
    assert client.get("/v1/stats?group_by=school", headers=auth).status_code == 422

    csv_response = client.get("/v1/stats/export.csv?group_by=ground", headers=auth)
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    lines = csv_response.text.splitlines()
    assert lines[0] == "key,label,records,reject,review,ok,findings"
    assert lines[-1].startswith("total,,3,2,0,1,")
    companies_csv = client.get("/v1/stats/export.csv?group_by=company", headers=auth).text
    assert "'=HYPERLINK" in companies_csv  # never a formula in the officer's spreadsheet

    xlsx = client.get("/v1/stats/export.xlsx", headers=auth)
    assert xlsx.status_code == 200
    workbook = load_workbook(BytesIO(xlsx.content))
    assert workbook.sheetnames == [
        "about",
        "ground",
        "month",
        "kind",
        "verdict",
        "company",
        "records",
    ]
    records = list(workbook["records"].values)
    assert records[0][0] == "id" and len(records) == 4
    assert all("max. 22" not in str(row) for row in records)  # no texts in the export
    names = [row[1] for row in workbook["company"].values]
    assert '\'=HYPERLINK("http://x")' in names
    assert workbook["about"]["B1"].value == "ROC Alfa"


def test_admins_see_and_manage_their_own_keys(client: TestClient, org_keys: OrgKeys) -> None:
    mine = client.get("/v1/organisation", headers=H(org_keys.officer_a)).json()
    assert mine == {
        "name": "ROC Alfa",
        "type": "school",
        "role": "officer",
        "key": org_keys.officer_a[:11],
    }
    admin = client.get("/v1/organisation", headers=H(org_keys.admin_a)).json()
    assert {k["name"] for k in admin["keys"]} == {"officer Alfa", "admin Alfa"}
    assert (
        client.post(
            "/v1/keys", json={"name": "x", "role": "officer"}, headers=H(org_keys.officer_a)
        ).status_code
        == 403
    )
    refused = client.post(
        "/v1/keys", json={"name": "x", "role": "sbb"}, headers=H(org_keys.admin_a)
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "role"
    made = client.post(
        "/v1/keys",
        json={"name": "stagebureau 2", "role": "officer", "expires_days": 30},
        headers=H(org_keys.admin_a),
    )
    assert made.status_code == 201
    secret = made.json()["key"]
    assert client.get("/v1/records", headers=H(secret)).status_code == 200
    other = client.get("/v1/organisation", headers=H(org_keys.admin_b)).json()["keys"]
    assert (
        client.delete(f"/v1/keys/{other[0]['id']}", headers=H(org_keys.admin_a)).status_code == 404
    )
    assert (
        client.delete(f"/v1/keys/{made.json()['id']}", headers=H(org_keys.admin_a)).status_code
        == 204
    )
    assert client.get("/v1/records", headers=H(secret)).status_code == 401


def test_openapi_documents_the_record_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/records",
        "/v1/records/{record_id}",
        "/v1/records/{record_id}/feedback",
        "/v1/companies",
        "/v1/companies/{kvk}",
        "/v1/stats",
        "/v1/stats/export.csv",
        "/v1/stats/export.xlsx",
    ):
        assert path in paths, path
    assert "404" in paths["/v1/records/{record_id}"]["get"]["responses"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "record_id" in schema["AnalyzeResponse"]["properties"]
    assert {"store", "company", "reference"} <= set(schema["AnalyzeRequest"]["properties"])


def test_references_without_personal_data_and_notes_are_kept_redacted(
    client: TestClient, org_keys: OrgKeys
) -> None:
    reference = "https://portal.example.nl/vacatures/4711?bron=sbb&id=12"
    stored = store(client, org_keys.officer_a, reference=reference, company=COMPANY)
    path = f"/v1/records/{stored['record_id']}"
    assert client.get(path, headers=H(org_keys.officer_a)).json()["reference"] == reference
    note = "Gebeld met Fatima (06-12345678, fatima@example.nl), BSN 111222333."
    changed = client.patch(path, json={"note": note}, headers=H(org_keys.officer_a))
    assert changed.status_code == 200
    kept = client.get(path, headers=H(org_keys.officer_a)).json()["note"]
    assert "06-12345678" not in kept and "fatima@example.nl" not in kept
    assert "111222333" not in kept and "[PHONE]" in kept


def test_exports_survive_odd_characters_and_the_last_day(
    client: TestClient, org_keys: OrgKeys, data_dir: Path
) -> None:
    from sqlalchemy import text as sql

    from service.config import DATABASE_FILE
    from service.store.db import make_engine

    store(client, org_keys.officer_a, company={"kvk": "12345678", "name": "Odd"})
    # A record kept before control characters were refused must still export.
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    with engine.begin() as connection:
        connection.execute(sql("UPDATE records SET company_name = 'Odd\x01\x1b name'"))
    engine.dispose()
    for path in ("/v1/stats/export.xlsx", "/v1/stats/export.csv?group_by=company"):
        for query in ("", "&to=9999-12-31" if "?" in path else "?to=9999-12-31"):
            response = client.get(path + query, headers=H(org_keys.officer_a))
            assert response.status_code == 200, (path, query)
    assert client.get("/v1/records?to=9999-12-31", headers=H(org_keys.officer_a)).status_code == 200


def test_a_wrong_method_names_every_allowed_one(client: TestClient, org_keys: OrgKeys) -> None:
    response = client.options(f"/v1/records/{uuid.uuid4()}", headers=H(org_keys.officer_a))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH, DELETE"
