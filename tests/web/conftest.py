"""Fixtures of the web page tests: a database with two schools and SBB, their accounts,
and TestClients that sign in through the real form.

The template database (migrated, organisations and accounts made, passwords hashed) is
built once per session and copied for each test: Argon2 is slow on purpose.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from nlp.analyzer import Analyzer  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import DATABASE_FILE, Settings  # noqa: E402
from service.store.db import make_engine, make_session_factory  # noqa: E402
from service.store.keys import create_key  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.orgs import create_organisation  # noqa: E402
from service.store.users import create_user  # noqa: E402

PASSWORD = "stagecheck-test-wachtwoord"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Accounts:
    """The e-mail addresses of the seeded accounts (all with PASSWORD)."""

    officer_a: str = "coordinator@roc-alfa.nl"
    admin_a: str = "beheer@roc-alfa.nl"
    officer_b: str = "coordinator@roc-beta.nl"
    sbb: str = "medewerker@sbb.nl"
    lockable_b: str = "invaller@roc-beta.nl"  # the browser tests lock this one out


ACCOUNTS = Accounts()


def seed(url: str) -> None:
    """Two schools (ROC Alfa, ROC Beta) and SBB, an account per role, and one API key."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            alfa = create_organisation(session, "ROC Alfa", "school")
            beta = create_organisation(session, "ROC Beta", "school")
            sbb = create_organisation(session, "SBB", "sbb")
            create_user(session, alfa, "officer", ACCOUNTS.officer_a, PASSWORD)
            create_user(session, alfa, "admin", ACCOUNTS.admin_a, PASSWORD)
            create_user(session, beta, "officer", ACCOUNTS.officer_b, PASSWORD)
            create_user(session, sbb, "sbb", ACCOUNTS.sbb, PASSWORD)
            create_user(session, beta, "officer", ACCOUNTS.lockable_b, PASSWORD)
            create_key(session, "portal")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded SQLite file, made once and copied for each test."""
    folder = tmp_path_factory.mktemp("web-template")
    url = f"sqlite:///{folder / DATABASE_FILE}"
    upgrade(url)
    seed(url)
    return folder / DATABASE_FILE


@pytest.fixture
def web_data_dir(tmp_path: Path, seeded_database: Path) -> Path:
    """A data directory holding a fresh copy of the seeded database."""
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(seeded_database, folder / DATABASE_FILE)
    return folder


def web_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a web test: explicit values, plain-http cookies, rules only."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "auth": "enabled",
        "rules_only": True,
        "purge_interval_hours": 0,
        "cookie_secure": False,
        "session_secret": "a-test-secret-that-is-long-enough-for-the-check",
        "login_max_failures": 5,
        "login_lockout_minutes": 15,
    }
    values.update(overrides)
    return Settings(**values)


MakeWebClient = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def make_web_client(web_data_dir: Path, rules: Analyzer) -> MakeWebClient:
    """A started app: `with make_web_client(login_max_failures=2) as client: ...`."""

    @contextmanager
    def build(**overrides: Any) -> Iterator[TestClient]:
        app = create_app(web_settings(web_data_dir, **overrides), analyzer=rules)
        with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
            yield client

    return build


@pytest.fixture
def web(make_web_client: MakeWebClient) -> Iterator[TestClient]:
    """A started app, nobody signed in."""
    with make_web_client() as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the form; returns the response to the POST (not followed)."""
    token = csrf_of(client.get("/inloggen").text)
    return client.post(
        "/inloggen",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


@pytest.fixture
def officer_a(web: TestClient) -> TestClient:
    """The client, signed in as ROC Alfa's placement officer."""
    assert sign_in(web, ACCOUNTS.officer_a).status_code == 303
    return web
