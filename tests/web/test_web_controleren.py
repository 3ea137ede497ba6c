"""Controleren through the TestClient: the form, the result, kept records, feedback, and
who may see what."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from service.store.db import make_engine, make_session_factory
from service.store.models import Record
from service.web.presenting import ShownFinding, highlighted, rewrite, rewritten_text
from tests.web.conftest import ACCOUNTS, MakeWebClient, csrf_of, sign_in

VACANCY = "Wij zoeken een jonge stagiair, max. 21 jaar. Hoofddoekjes zijn niet toegestaan."
LETTER = (
    "Beste Fatima,\n\nHelaas. Wij zoeken iemand van max. 21 jaar.\n\n"
    "Met vriendelijke groet,\nRichard Smeets"
)


def post_check(client: TestClient, **fields: str) -> object:
    token = csrf_of(client.get("/").text)
    data = {"kind": "vacancy", "csrf_token": token, **fields}
    files = {"bestand": ("", b"", "application/octet-stream")}
    return client.post("/", data=data, files=files)


def record_id_of(html: str) -> str:
    found = re.search(r'href="/controleren/([0-9a-f-]{36})"', html)
    assert found, "no link to the kept record"
    return found.group(1)


def test_the_form_is_labelled_and_dutch(officer_a: TestClient) -> None:
    page = officer_a.get("/").text
    for label in ('for="text"', 'for="bestand"', 'for="kvk"', 'for="company_name"'):
        assert label in page
    assert "Stagevacature" in page and "Bericht van een werkgever" in page
    assert 'accept=".txt,.html,.htm,.docx,.pdf"' in page


def test_a_pasted_vacancy_gets_verdict_highlights_and_explanations(officer_a: TestClient) -> None:
    response = post_check(officer_a, text=VACANCY)
    assert response.status_code == 200  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert "Oordeel: afkeuren" in page
    assert page.count('<mark class="hl g-') == 3
    assert 'class="hl g-religion"' in page and 'class="hl g-age"' in page
    assert "WGBL art. 3" in page and "AWGB art. 1 en 5 lid 1" in page
    assert "Waarom?" in page and "Herkend" in page  # the trace
    assert "Vink bij de controle" in page  # no feedback without a record
    assert 'id="rewrite-plain"' in page


def test_nothing_is_kept_without_the_checkbox(officer_a: TestClient, web_data_dir: object) -> None:
    post_check(officer_a, text=VACANCY)
    engine = make_engine(f"sqlite:///{web_data_dir}/stagecheck.db")
    with make_session_factory(engine)() as session:
        assert session.query(Record).count() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "Plak een tekst of kies een bestand."),
        ({"text": VACANCY, "kvk": "12345678", "company_name": "X"}, "vink"),
        ({"text": VACANCY, "store": "1", "kvk": "1234", "company_name": "X"}, "8 cijfers"),
        ({"text": VACANCY, "store": "1", "kvk": "12345678"}, "Geef ook de naam"),
        ({"text": VACANCY, "kind": "stage"}, "vacature of een bericht"),
    ],
)
def test_form_errors_are_dutch_and_keep_the_input(
    officer_a: TestClient, fields: dict[str, str], message: str
) -> None:
    response = post_check(officer_a, **fields)
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert message in page
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    if fields.get("text", "").strip():
        assert "Hoofddoekjes zijn niet toegestaan" in page  # still in the textarea


def test_text_and_file_together_are_refused(officer_a: TestClient) -> None:
    token = csrf_of(officer_a.get("/").text)
    response = officer_a.post(
        "/",
        data={"text": VACANCY, "kind": "vacancy", "csrf_token": token},
        files={"bestand": ("v.txt", b"Stagiair gezocht", "text/plain")},
    )
    assert response.status_code == 422
    assert "niet allebei" in response.text


def test_an_uploaded_text_file_is_checked(officer_a: TestClient) -> None:
    token = csrf_of(officer_a.get("/").text)
    response = officer_a.post(
        "/",
        data={"kind": "vacancy", "csrf_token": token},
        files={"bestand": ("vacature.txt", VACANCY.encode(), "text/plain")},
    )
    assert response.status_code == 200
    assert "uit vacature.txt" in response.text and "Oordeel: afkeuren" in response.text


def test_an_upload_over_the_limit_is_refused(make_web_client: MakeWebClient) -> None:
    with make_web_client(max_upload_bytes=100) as client:
        sign_in(client, ACCOUNTS.officer_a)
        token = csrf_of(client.get("/").text)
        response = client.post(
            "/",
            data={"kind": "vacancy", "csrf_token": token},
            files={"bestand": ("groot.txt", b"a" * 500, "text/plain")},
        )
        assert response.status_code == 422
        assert "het maximum is" in response.text


def test_a_kept_check_is_redacted_and_open_to_feedback(officer_a: TestClient) -> None:
    response = post_check(
        officer_a,
        text=LETTER,
        kind="rejection",
        store="1",
        kvk="1234 5678",
        company_name="Kantoor Van Houten",
    )
    page = response.text  # type: ignore[attr-defined]
    assert "De controle is bewaard" in page
    record_id = record_id_of(page)
    kept = officer_a.get(f"/controleren/{record_id}").text
    assert "Beste [NAME]," in kept and "Fatima" not in kept and "Richard" not in kept
    assert "Kantoor Van Houten (KvK 12345678)" in kept
    token = csrf_of(kept)

    judged = officer_a.post(
        f"/controleren/{record_id}/feedback",
        data={"csrf_token": token, "finding": "0", "assessment": "incorrect"},
        follow_redirects=False,
    )
    assert judged.status_code == 303
    assert judged.headers["location"] == f"/controleren/{record_id}#bevinding-1"
    after = officer_a.get(f"/controleren/{record_id}").text
    assert "Bevinding 1 is gemarkeerd als onjuist" in after  # the flash
    assert "Gemarkeerd als onjuist." in after

    missed = officer_a.post(
        f"/controleren/{record_id}/feedback",
        data={
            "csrf_token": token,
            "missed_quote": "Helaas.",
            "missed_ground": "unspecified",
            "missed_severity": "advisory",
        },
        headers={"Accept": "application/json"},
    )
    assert missed.json() == {
        "ok": True,
        "message": "De gemiste formulering is toegevoegd. Dank je!",
    }
    not_there = officer_a.post(
        f"/controleren/{record_id}/feedback",
        data={"csrf_token": token, "missed_quote": "Fatima", "missed_ground": "origin"},
        headers={"Accept": "application/json"},
    )
    assert not_there.status_code == 422 and "niet letterlijk" in not_there.json()["message"]
    out_of_range = officer_a.post(
        f"/controleren/{record_id}/feedback",
        data={"csrf_token": token, "finding": "9", "assessment": "correct"},
        headers={"Accept": "application/json"},
    )
    assert out_of_range.status_code == 422
    no_token = officer_a.post(
        f"/controleren/{record_id}/feedback", data={"finding": "0", "assessment": "correct"}
    )
    assert no_token.status_code == 403


def test_other_schools_get_the_same_404_and_sbb_may_only_read(
    make_web_client: MakeWebClient,
) -> None:
    with make_web_client() as alfa:
        sign_in(alfa, ACCOUNTS.officer_a)
        record_id = record_id_of(post_check(alfa, text=VACANCY, store="1").text)  # type: ignore[attr-defined]
    with make_web_client() as beta:
        sign_in(beta, ACCOUNTS.officer_b)
        theirs = beta.get(f"/controleren/{record_id}")
        missing = beta.get("/controleren/00000000-0000-0000-0000-000000000000")
        assert theirs.status_code == missing.status_code == 404
        strip = re.compile(r'(csrf[-_]token"? (?:content|value)=)"[^"]*"')
        assert strip.sub("", theirs.text) == strip.sub("", missing.text)
        assert beta.get(f"/controleren/{record_id}/herschrijving").status_code == 404
        token = csrf_of(theirs.text)
        feedback = beta.post(
            f"/controleren/{record_id}/feedback",
            data={"csrf_token": token, "finding": "0", "assessment": "correct"},
        )
        assert feedback.status_code == 404
    with make_web_client() as sbb:
        sign_in(sbb, ACCOUNTS.sbb)
        page = sbb.get(f"/controleren/{record_id}")
        assert page.status_code == 200 and "ROC Alfa" in page.text
        assert "Klopt niet" not in page.text  # reading only
        token = csrf_of(page.text)
        refused = sbb.post(
            f"/controleren/{record_id}/feedback",
            data={"csrf_token": token, "finding": "0", "assessment": "correct"},
        )
        assert refused.status_code == 403


def test_texts_never_reach_the_log(officer_a: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    marker = "Zwaluwstaart8841"
    with caplog.at_level(logging.DEBUG):
        post_check(officer_a, text=f"{VACANCY} {marker}", store="1")
    assert marker not in caplog.text
    assert "Hoofddoekjes" not in caplog.text


def finding(
    number: int, ground: str, start: int, end: int, text: str, suggestion: str | None
) -> ShownFinding:
    return ShownFinding(
        number=number,
        index=number - 1,
        ground=ground,
        severity="implicit",
        start=start,
        end=end,
        quote=text[start:end],
        score=0.8,
        source="rule",
        explanation="uitleg",
        legal_basis="AWGB",
        suggestion=suggestion,
        rule_id=None,
    )


def test_highlights_escape_the_text_and_nest() -> None:
    text = "<b>Wij</b> zoeken een jonge Nederlandse man."
    outer = finding(1, "gender", text.index("jonge"), len(text) - 1, text, None)
    inner = finding(2, "nationality", text.index("Nederlandse"), text.index(" man"), text, None)
    html = str(
        highlighted(text, [outer, inner], {"gender": "geslacht", "nationality": "nationaliteit"})
    )
    assert "&lt;b&gt;Wij&lt;/b&gt;" in html and "<b>" not in html
    assert 'class="hl g-nationality"' in html and 'class="hl g-gender"' in html
    assert "(bevinding 2: nationaliteit)" in html and "(bevinding 1: geslacht)" in html


def test_the_rewrite_applies_what_it_can_and_lists_the_rest() -> None:
    text = "Wij zoeken een jonge stagiair, max. 21 jaar, voor de winkel. Geen hoofddoek."
    findings = [
        finding(1, "age", 15, 29, text, 'Laat "jong" weg en beschrijf wat je zoekt.'),
        finding(2, "age", 31, 43, text, "Laat de leeftijd weg."),
        finding(
            3,
            "religion",
            text.index("Geen"),
            len(text) - 1,
            text,
            "Beoordeel de kandidaat op het werk.",
        ),
        finding(4, "gender", 0, 3, text, 'Gebruik "Wij" of "Ons team".'),
    ]
    plain = rewritten_text(rewrite(text, findings))
    assert plain.startswith("Wij zoeken een stagiair voor de winkel. Geen hoofddoek [1].")
    assert "Nog aan te passen:\n[1] “Geen hoofddoek”: Beoordeel de kandidaat op het werk." in plain
