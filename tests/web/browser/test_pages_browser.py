"""The Batch, Opvolging, Bedrijven and Overzicht pages in a real headless Chromium against a
real server: a batch of 200 vacancies downloaded as XLSX, a status change with its history,
a company page, the charts drawn, and school B's pages closed to school A by URL.

Each test has its own server in a thread (tests/service/conftest.py) with records of two
schools, and uses the harness's Chromium (tests/web/browser/conftest.py). Every page is
checked with axe-core (WCAG 2.1 A/AA, as the harness does): no serious or critical
violations. axe runs through `evaluate`, so the pages keep their Content-Security-Policy
and any violation of it fails the test as a console error. Screenshots go to
tests/artifacts/pages/ (ignored by git).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nlp.analyzer import Analyzer
from service.app import create_app
from tests.service.conftest import serve_in_thread
from tests.web.browser.conftest import describe
from tests.web.conftest import ACCOUNTS, PASSWORD, web_settings
from tests.web.pages_data import seed_records

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def site(web_data_dir: Path, rules: Analyzer) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server on a loopback port with records of two schools; yields (base URL, ids)."""
    records = seed_records(web_data_dir, rules)
    app = create_app(web_settings(web_data_dir), analyzer=rules)
    with serve_in_thread(app) as base_url:
        yield base_url, records


@pytest.fixture
def signed_in(browser: Any) -> Iterator[Any]:
    """`signed_in(base_url, email, width, height)`: a new page in its own context, signed in
    through the form; it records console errors (CSP violations among them)."""
    contexts: list[Any] = []

    def open_page(base_url: str, email: str, width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True, locale="nl-NL"
        )
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.console_errors = errors
        page.goto(f"{base_url}/inloggen")
        page.get_by_label("E-mailadres").fill(email)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(f"{base_url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def shot(artifacts: Path, axe_source: str) -> Any:
    """`shot(page, name)`: check the page with axe-core, then save a screenshot."""
    folder = artifacts / "pages"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full_page: bool = True) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)
        # evaluate() runs outside the page's CSP, which would refuse an injected <script>.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{name}: {describe(serious)}"

    return take


def test_batch_of_200_vacancies_downloads_as_xlsx_in_input_order(
    signed_in: Any, site: tuple[str, dict[str, str]], shot: Any, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    base_url, _ = site
    page = signed_in(base_url, ACCOUNTS.officer_a)
    texts = (
        "Wij zoeken een stagiair van max. 22 jaar voor onze winkel.",
        "Wij zoeken een enthousiaste stagiair voor de keuken.",
        "Je bent een native speaker Nederlands.",
        "Hoofddoekjes zijn in onze winkel niet toegestaan.",
    )
    lines = ["id,text"] + [f"vac-{n:03d},{texts[n % len(texts)]}" for n in range(200)]
    upload = tmp_path / "vacatures.csv"
    upload.write_text("\n".join(lines) + "\n", encoding="utf-8")

    page.goto(f"{base_url}/batch")
    shot(page, "batch-upload")
    page.get_by_label("Bestand (CSV, XLSX of JSONL)").set_input_files(str(upload))
    page.get_by_role("button", name="Batch starten").click()
    page.wait_for_url(f"{base_url}/batch/*")
    page.get_by_role("link", name="Download als Excel (XLSX)").wait_for(timeout=60_000)
    assert page.locator("progress").count() == 0
    shot(page, "batch-results", full_page=False)  # the top: 200 rows are long

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download als Excel (XLSX)").click()
    saved = tmp_path / "resultaten.xlsx"
    download_info.value.save_as(saved)
    workbook = load_workbook(io.BytesIO(saved.read_bytes()))
    rows = list(workbook["resultaten"].iter_rows(values_only=True))
    assert rows[0][:2] == ("rij", "id")
    assert len(rows) == 201
    assert [r[1] for r in rows[1:]] == [f"vac-{n:03d}" for n in range(200)]
    assert [r[4] for r in rows[1:5]] == ["reject", "ok", "review", "reject"]

    page.get_by_label("Sorteren op").select_option("verdict")
    page.get_by_label("Grond").select_option("religion")
    page.get_by_role("button", name="Toepassen").click()
    assert page.locator("#resultaten tbody tr").count() == 50
    assert page.console_errors == []


def test_status_change_with_note_and_history(
    signed_in: Any, site: tuple[str, dict[str, str]], shot: Any
) -> None:
    base_url, records = site
    page = signed_in(base_url, ACCOUNTS.officer_a)
    page.goto(f"{base_url}/opvolging")
    page.get_by_label("Status").select_option("open")
    page.get_by_role("button", name="Filteren").click()
    shot(page, "opvolging")
    page.goto(f"{base_url}/opvolging/{records['alfa_letter']}")
    page.get_by_label("Nieuwe status").select_option("company_contacted")
    page.get_by_label("Notitie").fill("Bedrijf gebeld; het past de tekst aan.")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_load_state()
    assert "De wijziging is opgeslagen." in page.content()
    history = page.locator("#geschiedenis li").first
    assert "open → bedrijf benaderd" in history.inner_text()
    assert "Bedrijf gebeld; het past de tekst aan." in history.inner_text()
    assert page.locator("#huidige-status").inner_text() == "bedrijf benaderd"
    shot(page, "opvolging-melding")
    assert page.console_errors == []


def test_company_page_and_statistics_draw_their_charts(
    signed_in: Any, site: tuple[str, dict[str, str]], shot: Any
) -> None:
    base_url, _ = site
    page = signed_in(base_url, ACCOUNTS.officer_a)
    page.goto(f"{base_url}/bedrijven")
    page.get_by_label("Naam of KvK-nummer").fill("bakkerij")
    page.get_by_role("button", name="Zoeken").click()
    shot(page, "bedrijven")
    page.get_by_role("link", name="Bakkerij Jansen").click()
    page.wait_for_function("window.stagecheckCharts && window.stagecheckCharts.length === 2")
    assert page.evaluate("Chart.getChart('grafiek-gronden').data.labels.length") >= 2
    shot(page, "bedrijf")

    page.goto(f"{base_url}/overzicht")
    page.wait_for_function("window.stagecheckCharts && window.stagecheckCharts.length === 3")
    drawn = page.evaluate(
        "['grafiek-maand', 'grafiek-grond', 'grafiek-soort'].map(id => {"
        " const chart = Chart.getChart(id); const canvas = document.getElementById(id);"
        " return [chart.data.datasets.length, canvas.width > 0 && canvas.height > 0]; })"
    )
    assert drawn == [[3, True], [1, True], [3, True]]
    shot(page, "overzicht")
    phone = signed_in(base_url, ACCOUNTS.sbb, width=390, height=844)
    phone.goto(f"{base_url}/overzicht")
    phone.wait_for_function("window.stagecheckCharts && window.stagecheckCharts.length === 3")
    # Wide tables scroll inside their own box; the page itself must not scroll sideways.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "overzicht-telefoon")
    assert page.console_errors == [] and phone.console_errors == []


def test_officer_of_school_a_cannot_open_school_b_by_url(
    signed_in: Any, site: tuple[str, dict[str, str]], shot: Any
) -> None:
    base_url, records = site
    page = signed_in(base_url, ACCOUNTS.officer_a)
    for url in (f"/opvolging/{records['beta']}", "/bedrijven/87654321"):
        response = page.goto(f"{base_url}{url}")
        assert response is not None and response.status == 404
        assert "Niet gevonden" in page.content()
    page.goto(f"{base_url}/bedrijven?q=Garage")
    assert "Garage Beta" not in page.content()


def test_batch_form_is_keyboard_reachable_with_visible_focus(
    signed_in: Any, site: tuple[str, dict[str, str]], shot: Any
) -> None:
    base_url, _ = site
    page = signed_in(base_url, ACCOUNTS.officer_a)
    page.goto(f"{base_url}/batch")
    reached: list[str] = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return [e.id || e.textContent.trim(), getComputedStyle(e).outlineStyle]; }"
        )
        reached.append(focused[0])
        if focused[0] == "Batch starten":
            assert focused[1] != "none"  # the focus is visible
            break
    assert "bestand" in reached and reached[-1] == "Batch starten"


def test_every_page_fits_a_phone(signed_in: Any, site: tuple[str, dict[str, str]]) -> None:
    base_url, records = site
    page = signed_in(base_url, ACCOUNTS.sbb, 390, 844)
    for path in (
        "/batch",
        "/opvolging",
        f"/opvolging/{records['alfa_letter']}",
        "/bedrijven",
        "/bedrijven/12345678",
        "/overzicht",
    ):
        page.goto(f"{base_url}{path}")
        # Wide tables scroll inside their own box; the page itself must not.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
