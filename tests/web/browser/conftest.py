"""The browser harness: Debian's headless Chromium (pytest-playwright) against a real
`stagecheck serve` on a free loopback port, with a temporary SQLite database seeded with
two schools, SBB and their accounts.

- Chromium: /usr/bin/chromium (Playwright's own browser download does not work here). When
  it is missing the browser tests skip, or fail when CI=true.
- axe-core: .cache/axe/axe.min.js, fetched by `make axe` (a prerequisite of `make test`).
  Missing: the accessibility checks skip, or fail when CI=true.
- Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.config import DATABASE_FILE
from service.store.migrate import upgrade
from tests.web.conftest import ACCOUNTS, PASSWORD, seed

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from serverlib import Server

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".cache" / "axe" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
LOGIN_FAILURES = 3

# The pages of the nav: every one gets an axe check and a screenshot.
PAGES = ("/", "/batch", "/opvolging", "/bedrijven", "/overzicht")


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium, headless, instead of Playwright's download."""
    if not CHROMIUM.exists():
        _missing(
            f"{CHROMIUM} is missing: the browser tests did not run (apt-get install chromium; "
            ".ci/run does)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--headless", "--no-sandbox", "--disable-gpu"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop screen, Dutch locale."""
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "locale": "nl-NL",
    }


@dataclass(frozen=True)
class LiveServer:
    """A running service: its base URL and the environment its commands need."""

    url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `stagecheck ARGS` against the server's database."""
        return subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`stagecheck serve` on a free loopback port, with seeded accounts, rules only."""
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    url = f"sqlite:///{data_dir / DATABASE_FILE}"
    upgrade(url)
    seed(url)
    server = Server(
        data_dir,
        url,
        data_dir.parent / "server.log",
        ready_path="/ready",
        settings={
            "STAGECHECK_COOKIE_SECURE": "false",
            "STAGECHECK_LOGIN_MAX_FAILURES": str(LOGIN_FAILURES),
        },
    )
    try:
        server.start(timeout=90)
        yield LiveServer(url=server.base, data_dir=data_dir, env=server.env)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright's pages resolve relative URLs against the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's code (`make axe` fetches it)."""
    if not AXE.exists():
        _missing(f"{AXE} is missing: run `make axe` (make test does) for the accessibility checks")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def sign_in(
    page: Any, email: str = ACCOUNTS.officer_a, password: str = PASSWORD, go: bool = True
) -> None:
    """Sign in through the form (on the page shown, with `go=False`) and wait for the next."""
    if go:
        page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/inloggen" not in url)


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (WCAG 2.1 A and AA rules).

    The page's own Content-Security-Policy forbids inline scripts, so the context that
    runs axe is opened with `bypass_csp`; the functional tests keep the policy on.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    results = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations']
        })"""
    )
    return [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable summary of axe violations for an assertion message."""
    return json.dumps(
        [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"][:5]],
            }
            for v in violations
        ],
        indent=2,
        ensure_ascii=False,
    )
