"""Privacy: personal data sent through every API route ends up nowhere unredacted.

A realistic set of employers' messages and vacancies, each naming a student the ways real
messages do (greeting, signature, label, "mevrouw X", "student X", "mijn naam is X") with an
e-mail address, a phone number and a BSN, goes through every route that takes or gives
records, with every logger at DEBUG. Afterwards the logs, every row of every table of the
database (SQLite and PostgreSQL), the SQLite files themselves and the CSV and XLSX exports
are searched for each planted name, address, number and BSN.

What is out of scope, by design: names in running prose without a cue ("Fatima belde"),
which the redactor does not recognise (SECURITY.md), and the analysis returned to the
caller itself, which quotes the caller's own text.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.planted import MESSAGES_WITH_PERSONAL_DATA, Person, bsns, database_dump, unzipped
from tests.service.conftest import MakeClient, OrgKeys, add_org_keys

H = OrgKeys.headers


_NAMES = [
    ("Fatima", "Bouzid"),
    ("Sven", "Kwakernaak"),
    ("Noor", "Yilmaz"),
    ("Priya", "Natarajan"),
    ("Daan", "Oosterhuis"),
    ("Aylin", "Demirtas"),
    ("Mohamed", "Amrani"),
    ("Kees", "Brandsma"),
]
_PHONES = [
    "06-12345678",
    "+31 6 2345 6789",
    "020 123 4567",
    "(010) 765 43 21",
    "0031 6 87654321",
    "06 98765432",
    "+31 (0)6 11223344",
    "030-2345678",
]
PEOPLE = [
    Person(first, last, f"{first.lower()}.{last.lower()}@student.example.nl", phone, bsn)
    for (first, last), phone, bsn in zip(
        _NAMES, _PHONES, bsns(len(_NAMES), start=123_456_782), strict=True
    )
]

TEMPLATES = [
    *MESSAGES_WITH_PERSONAL_DATA,
    "Dear {first} {last},\n\nWe are looking for a young native speaker instead. Contact "
    "{email} / {phone}. BSN {bsn}.\n\nKind regards,\nJohn Miller",
    "Mijn naam is {first} {last} en ik solliciteer naar de stage. Mijn nummer is {phone} en "
    "mijn e-mail {email}. BSN {bsn}.",
]


def message(index: int) -> tuple[Person, str]:
    """The index-th message and the student it is about."""
    person = PEOPLE[index % len(PEOPLE)]
    template = TEMPLATES[index % len(TEMPLATES)]
    return person, template.format(**person.__dict__)


def test_personal_data_is_found_nowhere(
    make_client: MakeClient,
    database_url: str,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = add_org_keys(database_url)
    officer, sbb = H(keys.officer_a), H(keys.sbb)
    caplog.set_level(logging.DEBUG)
    exported: list[str] = []
    with make_client(database_url=database_url, log_level="debug") as client:
        texts = [message(i) for i in range(16)]
        company = {"kvk": "12345678", "name": "Bakkerij De Korenbloem", "location": "Utrecht"}
        # One by one, stored and not, plain text and HTML.
        for i, (_, text) in enumerate(texts[:8]):
            body: dict[str, Any] = {"text": text, "kind": "rejection", "id": f"msg-{i}"}
            if i % 2:
                body.update(store=True, company=company, reference=f"VAC-2026-{i:04d}")
            if i % 3 == 0:
                body.update(
                    text=f"<p>{text.replace(chr(10), '<br>')}</p>", content_type="text/html"
                )
            response = client.post("/v1/analyze", json=body, headers=officer)
            assert response.status_code == 200, response.text
        # A batch, all stored.
        items = [
            {"text": text, "kind": "rejection", "store": True, "company": company}
            for _, text in texts[8:]
        ]
        batch = client.post("/v1/analyze/batch", json={"items": items}, headers=officer)
        assert batch.status_code == 200 and batch.json()["failed"] == 0
        # Personal data where it does not belong is refused, and the refusal does not echo it.
        person = PEOPLE[0]
        refused = client.post(
            "/v1/analyze",
            json={"text": "Stagiair gezocht.", "store": True, "reference": person.email},
            headers=officer,
        )
        assert refused.status_code == 422 and person.email not in refused.text
        # Follow-up with notes and feedback that name the student.
        listing = client.get("/v1/records?limit=200", headers=officer).json()
        assert listing["total"] == 4 + 8
        for n, summary in enumerate(listing["items"]):
            person, _ = message(n)
            path = f"/v1/records/{summary['id']}"
            note = (
                f"Gebeld met student {person.first} {person.last}, {person.phone}, {person.email}."
            )
            assert (
                client.patch(
                    path, json={"note": note, "status": "company_contacted"}, headers=officer
                ).status_code
                == 200
            )
            record = client.get(path, headers=officer).json()
            stored_text = record["text"]
            feedback: dict[str, Any] = {
                "findings": [
                    {
                        "index": 0,
                        "assessment": "correct",
                        "comment": f"Klopt, zie student {person.first} {person.last}",
                    }
                ],
                "missed": [
                    {
                        "quote": stored_text[:12],
                        "ground": "origin",
                        "comment": f"BSN {person.bsn} van {person.email}",
                    }
                ],
            }
            if not record["analysis"]["findings"]:
                del feedback["findings"]
            posted = client.post(f"{path}/feedback", json=feedback, headers=officer)
            assert posted.status_code == 201, posted.text
            exported.append(client.get(path, headers=officer).text)
        exported.append(client.get("/v1/records?limit=200", headers=sbb).text)
        exported.append(client.get("/v1/companies/12345678", headers=sbb).text)
        exported.append(client.get("/v1/companies?q=Koren", headers=officer).text)
        for group in ("ground", "month", "kind", "verdict", "company"):
            exported.append(client.get(f"/v1/stats?group_by={group}", headers=sbb).text)
            exported.append(
                client.get(f"/v1/stats/export.csv?group_by={group}", headers=officer).text
            )
        for headers in (officer, sbb):
            workbook = client.get("/v1/stats/export.xlsx", headers=headers)
            assert workbook.status_code == 200
            exported.append(unzipped(workbook.content))

    logs = "\n".join(
        f"{r.name} {r.getMessage()} {r.__dict__!r}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    )
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG really was on
    places = {
        "logs": logs,
        "database": database_dump(database_url),
        "responses and exports": "\n".join(exported),
    }
    if database_url.startswith("sqlite"):
        db_file = Path(database_url.removeprefix("sqlite:///"))
        places["database files"] = b"".join(
            p.read_bytes() for p in db_file.parent.glob(db_file.name + "*")
        ).decode("utf-8", "replace")
    assert "[NAME]" in places["database"] and "[EMAIL]" in places["database"]
    found = [
        f"{value!r} in {where}"
        for person in PEOPLE
        for value in person.planted
        for where, content in places.items()
        if value in content
    ]
    assert not found, "\n".join(found)
