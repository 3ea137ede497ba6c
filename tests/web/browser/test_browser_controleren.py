"""End to end in a real browser: sign-in, Controleren, uploads, feedback, other schools,
keyboard use, phone width, and axe-core on every page.

The pages keep their Content-Security-Policy in these tests, and any CSP violation the
browser reports fails the test; only the accessibility check bypasses it, to inject axe.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.web.browser.conftest import (
    LOGIN_FAILURES,
    PAGES,
    LiveServer,
    describe,
    run_axe,
    sign_in,
)
from tests.web.conftest import ACCOUNTS, PASSWORD

pytestmark = pytest.mark.browser

DISCRIMINATORY = (
    "Stagiair verkoop gezocht (Utrecht)\n\n"
    "Wij zoeken een jonge stagiair, max. 21 jaar, voor onze winkel. "
    "Hoofddoekjes zijn niet toegestaan. Je helpt klanten en vult de schappen aan."
)
CLEAN = (
    "Stagiair bakkerij gezocht\n\n"
    "Wij zoeken een enthousiaste stagiair voor onze bakkerij in Zwolle. Je leert brood "
    "bakken, helpt klanten in de winkel en werkt mee in een hecht team. Iedereen is welkom."
)


@pytest.fixture
def csp_errors(page: Page) -> Iterator[list[str]]:
    """Console messages of Content-Security-Policy violations; none may occur."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    yield errors
    assert errors == [], errors


def check(page: Page, text: str, kind: str = "vacancy", keep: bool = False, **company: str) -> None:
    """Fill in the Controleren form and send it."""
    page.goto("/")
    if kind == "rejection":
        page.get_by_label("Bericht van een werkgever").check()
    page.get_by_label("Tekst", exact=True).fill(text)
    if keep:
        page.get_by_label("Bewaar deze controle").check()
    if "kvk" in company:
        page.get_by_label("KvK-nummer van het bedrijf").fill(company["kvk"])
        page.get_by_label("Naam van het bedrijf").fill(company["name"])
    page.get_by_role("button", name="Controleren", exact=True).click()
    page.wait_for_load_state()


def kept_record_id(page: Page) -> str:
    """The id of the record the result page links to."""
    href = page.get_by_role("link", name="Bewaarde controle openen").get_attribute("href")
    assert href is not None
    return href.rsplit("/", 1)[-1]


# -- sign-in -------------------------------------------------------------------------------


def test_sign_in_and_out(page: Page, csp_errors: list[str]) -> None:
    page.goto("/opvolging")
    expect(page).to_have_url(re.compile(r"/inloggen\?volgende=/opvolging$"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    sign_in(page, go=False)
    expect(page).to_have_url(re.compile(r"/opvolging$"))
    expect(page.get_by_text(ACCOUNTS.officer_a)).to_be_visible()
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/inloggen$"))
    expect(page.get_by_text("Je bent uitgelogd.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/inloggen$"))


def test_a_wrong_password_then_lock_out(page: Page, csp_errors: list[str]) -> None:
    page.goto("/inloggen")
    for attempt in range(LOGIN_FAILURES):
        page.get_by_label("E-mailadres").fill(ACCOUNTS.lockable_b)
        page.get_by_label("Wachtwoord").fill(f"verkeerd-wachtwoord-{attempt}")
        page.get_by_role("button", name="Inloggen").click()
        if attempt < LOGIN_FAILURES - 1:
            expect(page.get_by_role("alert")).to_have_text(
                "Het e-mailadres of het wachtwoord klopt niet."
            )
    expect(page.get_by_role("alert")).to_contain_text("tijdelijk geblokkeerd")
    # Now even the right password is refused.
    page.get_by_label("E-mailadres").fill(ACCOUNTS.lockable_b)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert")).to_contain_text("tijdelijk geblokkeerd")
    expect(page).to_have_url(re.compile(r"/inloggen$"))


# -- Controleren ---------------------------------------------------------------------------


def test_a_discriminatory_vacancy_shows_the_verdict_and_the_phrases_explained(
    page: Page, csp_errors: list[str], artifacts: Path
) -> None:
    sign_in(page)
    check(page, DISCRIMINATORY)
    expect(page.get_by_role("heading", name="Oordeel: afkeuren")).to_be_visible()
    text = page.locator(".analysed-text")
    for quote in ("jonge stagiair", "max. 21 jaar", "Hoofddoekjes zijn niet toegestaan"):
        expect(text.locator("mark", has_text=quote).first).to_be_visible()
    findings = page.locator("ol.findings > li")
    expect(findings).to_have_count(3)
    age = page.locator("li.finding", has_text="max. 21 jaar")
    expect(age.locator(".ground-tag")).to_contain_text("leeftijd")
    expect(age.locator(".ground-tag svg")).to_have_count(1)
    expect(age).to_contain_text("WGBL art. 3")
    expect(age.get_by_text("Uitleg")).to_be_visible()
    religion = page.locator("li.finding", has_text="Hoofddoekjes")
    expect(religion).to_contain_text("godsdienst")
    expect(religion).to_contain_text("AWGB")
    # The decision trace behind "Waarom?".
    religion.get_by_text("Waarom?").click()
    expect(religion.locator("details.why ol li").first).to_contain_text("Herkend")
    # Each highlight links its number to the finding beside the text.
    expect(text.locator("mark sup a").first).to_have_attribute("href", "#bevinding-1")
    # The rewrite removes the age limit and "jong" and keeps the rest to rewrite by hand.
    rewrite = page.locator("#rewrite-plain")
    expect(rewrite).to_contain_text("Wij zoeken een stagiair voor onze winkel.")
    expect(rewrite).to_contain_text("Nog aan te passen:")
    page.screenshot(path=str(artifacts / "controleren-resultaat.png"), full_page=True)
    # What the README shows (docs/controleren.png is a copy): the first screen.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "controleren-resultaat-scherm.png"))


def test_a_clean_vacancy_is_akkoord(page: Page, csp_errors: list[str]) -> None:
    sign_in(page)
    check(page, CLEAN)
    expect(page.get_by_role("heading", name="Oordeel: akkoord")).to_be_visible()
    expect(page.locator(".analysed-text mark")).to_have_count(0)
    expect(page.get_by_role("heading", name="Bevindingen (0)")).to_be_visible()


def test_a_docx_upload_is_read_and_checked(
    page: Page, csp_errors: list[str], tmp_path: Path
) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Stage receptie", level=1)
    document.add_paragraph("Voor onze receptie zoeken wij een representatieve dame.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Leeftijd"
    table.rows[0].cells[1].text = "Je bent maximaal 23 jaar oud."
    path = tmp_path / "vacature receptie.docx"
    document.save(str(path))

    sign_in(page)
    page.goto("/")
    page.get_by_label("Of kies een bestand").set_input_files(str(path))
    page.get_by_role("button", name="Controleren", exact=True).click()
    expect(page.get_by_text("uit vacature receptie.docx")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile("Oordeel: (afkeuren|beoordelen)"))
    ).to_be_visible()
    expect(page.locator(".analysed-text")).to_contain_text("representatieve dame")
    expect(page.locator("li.finding", has_text="23 jaar")).to_contain_text("leeftijd")


def test_a_broken_docx_gets_a_dutch_error(
    page: Page, csp_errors: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "kapot.docx"
    path.write_bytes(b"PK\x03\x04 dit is geen echt word-bestand")
    sign_in(page)
    page.goto("/")
    page.get_by_label("Of kies een bestand").set_input_files(str(path))
    page.get_by_role("button", name="Controleren", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("kapot.docx is geen geldig Word-bestand")
    expect(page.get_by_label("Of kies een bestand")).to_have_attribute("aria-invalid", "true")


def test_a_finding_marked_incorrect_reaches_the_feedback_export(
    page: Page, csp_errors: list[str], live_server: LiveServer
) -> None:
    sign_in(page)
    letter = "Beste Fatima,\n\n" + DISCRIMINATORY + "\n\nMet vriendelijke groet,\nRichard Smeets"
    check(page, letter, keep=True, kvk="12345678", name="Winkel De Hoek")
    expect(page.get_by_role("heading", name="Oordeel: afkeuren")).to_be_visible()
    record_id = kept_record_id(page)
    first = page.locator("li.finding").first
    expect(first).to_contain_text("jonge stagiair")
    first.get_by_role("button", name=re.compile("^Klopt niet")).click()
    expect(first.locator("[data-feedback-status]")).to_have_text(
        "Bevinding 1 is gemarkeerd als onjuist. Dank je!"
    )
    expect(first.get_by_role("button", name=re.compile("^Klopt niet"))).to_have_attribute(
        "aria-pressed", "true"
    )
    # A missed phrase, too.
    page.get_by_label("Formulering, letterlijk uit de tekst").fill("vult de schappen aan")
    page.get_by_label("Grond", exact=True).select_option("unspecified")
    page.get_by_role("button", name="Gemiste formulering toevoegen").click()
    expect(page.locator("#gemist [data-feedback-status]")).to_contain_text("toegevoegd")

    # The kept record shows it, without the personal data.
    page.goto(f"/controleren/{record_id}")
    expect(page.locator("li.finding").first).to_contain_text("Gemarkeerd als onjuist.")
    expect(page.locator(".analysed-text")).to_contain_text("Beste [NAME],")
    expect(page.locator("body")).not_to_contain_text("Fatima")

    done = live_server.cli("data", "export-feedback")
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    mine = [r for r in exported if r["id"] == f"fb-{record_id}"]
    assert len(mine) == 1
    quotes = {f["quote"] for f in mine[0]["findings"]}
    assert "jonge stagiair" not in quotes  # marked incorrect
    assert {"max. 21 jaar", "vult de schappen aan"} <= quotes
    assert "Fatima" not in mine[0]["text"]


def test_another_school_cannot_open_a_record_by_url(
    browser: Browser, live_server: LiveServer, browser_context_args: dict[str, Any]
) -> None:
    school_a = browser.new_context(**browser_context_args)
    school_b = browser.new_context(**browser_context_args)
    try:
        page_a = school_a.new_page()
        sign_in(page_a, ACCOUNTS.officer_a)
        check(page_a, DISCRIMINATORY, keep=True)
        record_id = kept_record_id(page_a)
        assert page_a.goto(f"/controleren/{record_id}").status == 200  # type: ignore[union-attr]

        page_b = school_b.new_page()
        sign_in(page_b, ACCOUNTS.officer_b)
        shown = []
        for target in (record_id, str(uuid.uuid4())):
            for suffix in ("", "/herschrijving"):
                response = page_b.goto(f"/controleren/{target}{suffix}")
                assert response is not None and response.status == 404
                shown.append(page_b.locator("main").inner_text())
        assert len(set(shown)) == 1, "another school's record must look exactly like no record"
        assert "Niet gevonden" in shown[0]
        assert "jonge stagiair" not in page_b.content()
        # Feedback on it is refused the same way.
        token = page_b.locator('meta[name="csrf-token"]').get_attribute("content") or ""
        answer = page_b.request.post(
            f"/controleren/{record_id}/feedback",
            form={"csrf_token": token, "finding": "0", "assessment": "incorrect"},
            headers={"Accept": "application/json"},
        )
        assert answer.status == 404
    finally:
        school_a.close()
        school_b.close()


# -- keyboard, phone, accessibility --------------------------------------------------------


def test_the_keyboard_reaches_the_form_with_a_visible_focus(page: Page) -> None:
    sign_in(page)
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Direct naar de inhoud")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#inhoud$"))
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {tag: e.tagName, name: e.name, outline: s.outlineStyle, width: s.outlineWidth}; }"
    )
    assert focused["tag"] == "INPUT" and focused["name"] == "kind"
    assert focused["outline"] != "none" and focused["width"] != "0px"
    # The rest of the form follows in order, up to the button.
    names = []
    for _ in range(8):
        page.keyboard.press("Tab")
        names.append(
            page.evaluate(
                "() => document.activeElement.name || document.activeElement.textContent.trim()"
            )
        )
    assert names[:2] == ["text", "bestand"]
    assert "Controleren" in names


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
        base_url=live_server.url,
    )
    yield context
    context.close()


def test_pages_fit_a_phone_screen(phone: BrowserContext, artifacts: Path) -> None:
    page = phone.new_page()
    sign_in(page)
    for path in PAGES:
        page.goto(path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    check(page, DISCRIMINATORY)
    expect(page.get_by_role("heading", name="Oordeel: afkeuren")).to_be_visible()
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.screenshot(path=str(artifacts / "telefoon-controleren-resultaat.png"), full_page=True)


def test_every_page_passes_axe(
    browser: Browser,
    live_server: LiveServer,
    browser_context_args: dict[str, Any],
    axe_source: str,
    artifacts: Path,
) -> None:
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    failures: dict[str, str] = {}

    def audit(name: str, page: Page) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
        violations = run_axe(page, axe_source)
        if violations:
            failures[name] = describe(violations)

    try:
        page = context.new_page()
        page.goto("/inloggen")
        audit("inloggen", page)
        page.get_by_label("E-mailadres").fill("niemand@roc-alfa.nl")
        page.get_by_label("Wachtwoord").fill("verkeerd-wachtwoord")
        page.get_by_role("button", name="Inloggen").click()
        audit("inloggen-fout", page)
        sign_in(page)
        for path in PAGES:
            page.goto(path)
            audit("pagina" + (path.replace("/", "-") if path != "/" else "-controleren"), page)
        page.goto("/")
        page.get_by_role("button", name="Controleren", exact=True).click()
        audit("controleren-leeg-formulier", page)
        check(page, DISCRIMINATORY, keep=True, kvk="87654321", name="Winkel De Hoek")
        page.locator("details.why summary").first.click()
        audit("controleren-resultaat-bewaard", page)
        record_id = kept_record_id(page)
        page.goto(f"/controleren/{record_id}")
        audit("controleren-bewaard", page)
        page.goto(f"/controleren/{record_id}/herschrijving")
        audit("herschrijving", page)
        check(page, CLEAN)
        audit("controleren-akkoord", page)
        page.goto(f"/controleren/{uuid.uuid4()}")
        audit("niet-gevonden", page)
    finally:
        context.close()
    assert not failures, "\n".join(f"{name}:\n{text}" for name, text in failures.items())
