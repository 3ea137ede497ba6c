"""The Batch, Opvolging, Bedrijven and Overzicht pages over HTTP (no browser).

Records of two schools are kept as the API keeps them (redacted); the pages are
opened as a signed-in user of one of them. An officer of school A must not reach school
B's records or company details by URL.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nlp.analyzer import Analyzer
from tests.web.conftest import ACCOUNTS, csrf_of, sign_in
from tests.web.pages_data import seed_records

SignIn = Callable[[str], TestClient]


@pytest.fixture
def records(web_data_dir: Path, rules: Analyzer) -> dict[str, str]:
    """Records of both schools in the test database."""
    return seed_records(web_data_dir, rules)


@pytest.fixture
def pages(web: TestClient, records: dict[str, str]) -> SignIn:
    """`pages(email)` signs the client in as that account (signing out whoever was in)."""

    def as_(email: str) -> TestClient:
        web.cookies.clear()
        assert sign_in(web, email).status_code == 303
        return web

    return as_


def post(client: TestClient, url: str, data: dict[str, str], **kwargs: Any) -> Any:
    """POST a form to `url` with the session's CSRF token (read from the Opvolging page)."""
    token = csrf_of(client.get("/opvolging").text)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def test_followup_lists_own_records_with_filters(pages: SignIn) -> None:
    client = pages(ACCOUNTS.officer_a)
    page = client.get("/opvolging")
    assert page.status_code == 200
    assert "2 meldingen" in page.text and "Bakkerij Jansen" in page.text
    assert "Garage Beta" not in page.text
    assert 'aria-current="page"' in page.text
    assert "1 melding<" in client.get("/opvolging?grond=religion").text
    assert "0 meldingen" in client.get("/opvolging?status=resolved").text
    assert "2 meldingen" in client.get("/opvolging?bedrijf=12345678").text
    assert "2 meldingen" in client.get("/opvolging?bedrijf=bakkerij").text
    assert 'name="school"' not in page.text  # only SBB chooses a school
    assert "0 meldingen" in client.get("/opvolging?van=2000-01-01&tot=2000-01-31").text
    bad = client.get("/opvolging?van=gisteren&status=zoek")
    assert bad.status_code == 200 and "ongeldig" in bad.text and "Onbekende waarde" in bad.text


def test_status_change_with_note_joins_the_history(pages: SignIn, records: dict[str, str]) -> None:
    client = pages(ACCOUNTS.officer_a)
    record_id = records["alfa_letter"]
    detail = client.get(f"/opvolging/{record_id}")
    assert detail.status_code == 200
    assert "Beste [NAME]" in detail.text and "Fatima" not in detail.text
    changed = post(
        client,
        f"/opvolging/{record_id}",
        {"status": "company_contacted", "notitie": "Bedrijf gebeld, reageert vrijdag."},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    after = client.get(changed.headers["location"])
    assert "De wijziging is opgeslagen." in after.text
    assert "open &rarr; bedrijf benaderd" in after.text
    assert "Bedrijf gebeld, reageert vrijdag." in after.text
    assert ACCOUNTS.officer_a in after.text
    assert "1 melding<" in client.get("/opvolging?status=company_contacted").text
    refused = post(client, f"/opvolging/{record_id}", {"status": "gesloten", "notitie": ""})
    assert refused.status_code == 422 and "Kies een status" in refused.text
    no_token = client.post(f"/opvolging/{record_id}", data={"status": "resolved"})
    assert no_token.status_code == 403


def test_officer_cannot_open_another_schools_record_or_company(
    pages: SignIn, records: dict[str, str]
) -> None:
    client = pages(ACCOUNTS.officer_a)
    beta_record = records["beta"]
    missing = client.get("/opvolging/00000000-0000-0000-0000-000000000000")
    other = client.get(f"/opvolging/{beta_record}")
    assert other.status_code == missing.status_code == 404
    assert post(client, f"/opvolging/{beta_record}", {"status": "resolved"}).status_code == 404
    assert client.get("/bedrijven/87654321").status_code == 404
    assert "Garage Beta" not in client.get("/bedrijven?q=Garage").text
    assert "Garage Beta" not in client.get("/opvolging?bedrijf=87654321").text
    assert client.get("/bedrijven/12345678").status_code == 200


def test_sbb_reads_every_school_but_changes_only_its_own(
    pages: SignIn, records: dict[str, str]
) -> None:
    client = pages(ACCOUNTS.sbb)
    beta_record = records["beta"]
    assert "3 meldingen" in client.get("/opvolging").text
    one_school = client.get("/opvolging?school=ROC+Beta").text
    assert "1 melding<" in one_school and "Garage Beta" in one_school
    detail = client.get(f"/opvolging/{beta_record}")
    assert detail.status_code == 200 and "alleen die organisatie" in detail.text
    refused = post(client, f"/opvolging/{beta_record}", {"status": "resolved", "notitie": "x"})
    assert refused.status_code == 422 and "eigen organisatie" in refused.text
    assert client.get("/bedrijven/87654321").status_code == 200
    assert "alle organisaties" in client.get("/overzicht").text


def test_company_search_and_page(pages: SignIn) -> None:
    client = pages(ACCOUNTS.officer_a)
    hits = client.get("/bedrijven?q=bakker")
    assert "Bakkerij Jansen" in hits.text and "/bedrijven/12345678" in hits.text
    assert "/bedrijven/12345678" in client.get("/bedrijven?q=1234").text
    page = client.get("/bedrijven/12345678")
    assert "<h1>Bakkerij Jansen</h1>" in page.text
    assert 'data-chart-canvas="grafiek-gronden"' in page.text
    assert 'data-chart-canvas="grafiek-maanden"' in page.text
    assert "leeftijd" in page.text
    assert client.get("/bedrijven/1234").status_code == 404


def test_overview_figures_and_exports(pages: SignIn) -> None:
    from openpyxl import load_workbook

    client = pages(ACCOUNTS.officer_a)
    page = client.get("/overzicht")
    assert page.status_code == 200
    assert "50,0%" in page.text  # one of the two records was rejected
    assert "Garage" not in page.text
    csv_export = client.get("/overzicht/export.csv?indeling=ground")
    assert csv_export.status_code == 200 and csv_export.text.startswith("key,label,records")
    assert "religion" in csv_export.text
    workbook = load_workbook(io.BytesIO(client.get("/overzicht/export.xlsx").content))
    assert {"month", "ground", "records"} <= set(workbook.sheetnames)
    assert workbook["records"].max_row == 3  # header and ROC Alfa's two records
    empty = client.get("/overzicht?van=2000-01-01&tot=2000-12-31").text
    assert '<span class="value">0</span> controles bewaard' in empty


def upload(client: TestClient, name: str, content: bytes) -> Any:
    """Post a file to the Batch page, with the CSRF token."""
    token = csrf_of(client.get("/batch").text)
    return client.post(
        "/batch",
        files={"bestand": (name, content)},
        data={"csrf_token": token},
        follow_redirects=False,
    )


def test_batch_upload_progress_results_and_downloads(pages: SignIn) -> None:
    from openpyxl import load_workbook

    client = pages(ACCOUNTS.officer_a)
    rows = ["id,text"] + [
        f"v{n},{'Wij zoeken een stagiair van max. 22 jaar.' if n % 3 == 0 else 'Wij zoeken een kok.'}"
        for n in range(30)
    ]
    started = upload(client, "vacatures.csv", "\n".join(rows).encode())
    assert started.status_code == 303
    job_url = started.headers["location"]
    deadline = time.monotonic() + 30
    while True:
        status = client.get(f"{job_url}/status", headers={"Accept": "application/json"}).json()
        if status["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["state"] == "done" and status["done"] == 30 and status["percent"] == 100
    page = client.get(job_url)
    assert "Afkeuren: 10" in page.text and "<progress" not in page.text
    assert "vacatures.csv" in client.get("/batch").text
    by_risk = client.get(f"{job_url}?sorteer=risk&grond=age")
    assert "10 van 30 rijen" in by_risk.text
    workbook = load_workbook(io.BytesIO(client.get(f"{job_url}/resultaten.xlsx").content))
    values = list(workbook["resultaten"].iter_rows(values_only=True))
    assert [v[1] for v in values[1:]] == [f"v{n}" for n in range(30)]
    csv_text = client.get(f"{job_url}/resultaten.csv").content.decode("utf-8-sig")
    assert len(csv_text.splitlines()) == 31
    # Another account of the same school does not see the job.
    client = pages(ACCOUNTS.admin_a)
    assert client.get(job_url).status_code == 404
    assert client.get(f"{job_url}/resultaten.xlsx").status_code == 404
    assert (
        client.get(f"{job_url}/status", headers={"Accept": "application/json"}).status_code == 404
    )


def test_batch_upload_errors_are_shown_in_dutch(pages: SignIn) -> None:
    client = pages(ACCOUNTS.officer_a)
    missing = upload(client, "a.csv", b"id,omschrijving\n1,x\n")
    assert missing.status_code == 422
    assert "De kolom &#39;text&#39; ontbreekt" in missing.text
    rows = "id,text\n" + "".join(f"{n},x\n" for n in range(1001))
    too_many = upload(client, "a.csv", rows.encode())
    assert too_many.status_code == 422 and "meer dan 1000 rijen" in too_many.text
    assert upload(client, "a.pdf", b"%PDF").status_code == 422


def test_pages_need_a_signed_in_user(web: TestClient) -> None:
    for url in ("/batch", "/opvolging", "/bedrijven", "/overzicht", "/overzicht/export.xlsx"):
        response = web.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/inloggen")
