"""Fixtures of the HTTP API tests: a migrated SQLite file per test, keys, and TestClients.

The analyzer is the session's rule-based one (tests/conftest.py), built once; every app
gets it injected, so no test builds a pipeline of its own.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Starlette 1.x announces a move of its TestClient to httpx2; the client works as is.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from nlp.analyzer import Analyzer  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import DATABASE_FILE, Settings  # noqa: E402
from service.store.db import make_engine, make_session_factory  # noqa: E402
from service.store.keys import create_key  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.orgs import create_organisation  # noqa: E402

POSTGRES_ENV = "STAGECHECK_TEST_POSTGRES_URL"

MakeClient = Callable[..., AbstractContextManager[TestClient]]


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test: every value explicit, so the caller's environment cannot leak in."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "auth": "enabled",
        "rate_limit_per_minute": 600,
        "max_text_chars": 200_000,
        "max_batch_items": 500,
        "max_body_bytes": 10 * 1024 * 1024,
        "workers": 1,
        "analysis_threads": 4,
        "rules_only": True,
        "retention_days": 730,
        "purge_interval_hours": 0,
        "log_level": "info",
        "docs": True,
        "behind_https": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest schema, migrated once and copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    upgrade(f"sqlite:///{folder / DATABASE_FILE}")
    return folder / DATABASE_FILE


@pytest.fixture
def data_dir(tmp_path: Path, migrated_database: Path) -> Path:
    """A data directory holding a fresh, migrated database."""
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(migrated_database, folder / DATABASE_FILE)
    return folder


def add_key(data_dir: Path, name: str = "test") -> str:
    """Create a key in the test database and return the secret."""
    engine = make_engine(f"sqlite:///{data_dir / DATABASE_FILE}")
    try:
        with make_session_factory(engine)() as session:
            _, secret = create_key(session, name)
    finally:
        engine.dispose()
    return secret


@pytest.fixture
def new_key(data_dir: Path) -> Callable[..., str]:
    """Create another key in the test database: `new_key("portal")` returns its secret."""
    return lambda name="test": add_key(data_dir, name)


@pytest.fixture
def make_settings(data_dir: Path) -> Callable[..., Settings]:
    """Settings on the test data directory with overrides."""

    def build(**overrides: Any) -> Settings:
        return settings_for(overrides.pop("data_dir", data_dir), **overrides)

    return build


@pytest.fixture
def api_key(data_dir: Path) -> str:
    """A valid key in the test database."""
    return add_key(data_dir)


@pytest.fixture
def make_client(data_dir: Path, api_key: str, rules: Analyzer) -> MakeClient:
    """Build a started app with setting overrides: `with make_client(rate_limit_per_minute=2)`."""

    @contextmanager
    def build(analyzer: Analyzer | None = None, **overrides: Any) -> Iterator[TestClient]:
        app = create_app(settings_for(data_dir, **overrides), analyzer=analyzer or rules)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client

    return build


@pytest.fixture
def client(make_client: MakeClient) -> Iterator[TestClient]:
    """A started app with the default settings (auth on)."""
    with make_client() as started:
        yield started


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    """Headers that authenticate with the test key."""
    return {"Authorization": f"Bearer {api_key}"}


# -- organisations and their keys ------------------------------------------------------------


@dataclass(frozen=True)
class OrgKeys:
    """Secrets of keys in two schools and SBB, and of a key without an organisation."""

    officer_a: str
    admin_a: str
    officer_b: str
    admin_b: str
    sbb: str
    plain: str

    @staticmethod
    def headers(secret: str) -> dict[str, str]:
        """Headers that authenticate with `secret`."""
        return {"Authorization": f"Bearer {secret}"}


def add_org_keys(url: str) -> OrgKeys:
    """Make ROC Alfa and ROC Beta (schools) and SBB, with keys, in the database at `url`."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            alfa = create_organisation(session, "ROC Alfa", "school")
            beta = create_organisation(session, "ROC Beta", "school")
            sbb = create_organisation(session, "SBB", "sbb")

            def key(name: str, org: Any = None, role: str | None = None) -> str:
                return create_key(session, name, organisation=org, role=role)[1]

            return OrgKeys(
                officer_a=key("officer Alfa", alfa, "officer"),
                admin_a=key("admin Alfa", alfa, "admin"),
                officer_b=key("officer Beta", beta, "officer"),
                admin_b=key("admin Beta", beta, "admin"),
                sbb=key("SBB staff", sbb, "sbb"),
                plain=key("portal without organisation"),
            )
    finally:
        engine.dispose()


@pytest.fixture
def org_keys(data_dir: Path) -> OrgKeys:
    """Two schools and SBB with keys, in the test's SQLite database."""
    return add_org_keys(f"sqlite:///{data_dir / DATABASE_FILE}")


# -- PostgreSQL ----------------------------------------------------------------------------


def postgres_base_url() -> str:
    """The server tests may use; skip (or, in CI, fail) when STAGECHECK_TEST_POSTGRES_URL is unset."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    message = (
        f"{POSTGRES_ENV} is not set: the PostgreSQL half of the storage suite did not run. "
        "Set it to a server where the user may create databases, e.g. "
        "postgresql+psycopg://app@127.0.0.1:5433/postgres (.ci/run starts one)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = postgres_base_url()
    name = f"stagecheck_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database for one test."""
    with scratch_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / DATABASE_FILE}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A migrated database of each kind."""
    upgrade(empty_database_url)
    return empty_database_url


# -- a real server on a loopback port ------------------------------------------------------


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run `app` with uvicorn (real sockets, real HTTP) in a thread; yields the base URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
