"""The database: migrations, the api_keys table, and key data access."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from service.config import Settings
from service.errors import DatabaseAheadError, DatabaseBehindError, KeyNotFoundError
from service.store.db import make_engine, make_session_factory
from service.store.keys import (
    count_active_keys,
    create_key,
    find_key,
    hash_secret,
    list_keys,
    revoke_key,
)
from service.store.migrate import head_revision, require_current_schema, schema_status, upgrade
from service.store.models import Base, utcnow


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite URL in a folder that does not exist yet."""
    return f"sqlite:///{tmp_path / 'nested' / 'stagecheck.db'}"


def test_upgrade_creates_the_schema_in_wal_mode(url: str) -> None:
    status = upgrade(url)
    assert status.up_to_date and status.current == head_revision()
    assert upgrade(url).up_to_date  # idempotent
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        columns = {c["name"] for c in inspect(connection).get_columns("api_keys")}
    assert columns == {
        "id",
        "name",
        "prefix",
        "key_hash",
        "created_at",
        "expires_at",
        "revoked_at",
        "organisation_id",
        "role",
    }
    engine.dispose()


def test_migrations_match_the_models(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_behind_and_ahead_databases_are_refused(url: str) -> None:
    engine = make_engine(url)
    with pytest.raises(DatabaseBehindError, match="stagecheck db upgrade"):
        require_current_schema(engine)
    assert schema_status(engine).current is None
    upgrade(url)
    require_current_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(DatabaseAheadError, match="newer"):
        require_current_schema(engine)
    engine.dispose()


def test_keys_store_only_a_hash(url: str, tmp_path: Path) -> None:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        key, secret = create_key(session, "SBB portal")
    assert secret.startswith("sc_") and len(secret) >= 40
    assert key.key_hash == hash_secret(secret) != secret
    assert secret.startswith(key.prefix) and len(key.prefix) == 11
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "nested").iterdir())
    assert secret.encode() not in raw
    assert secret[len(key.prefix) :].encode() not in raw


def test_find_list_count_and_revoke(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        first, first_secret = create_key(session, "a")
        create_key(session, "b", expires_at=utcnow() - timedelta(seconds=1))
        assert find_key(session, first_secret) == first
        assert find_key(session, "sc_unknown") is None
        assert [k.name for k in list_keys(session)] == ["a", "b"]
        assert count_active_keys(session) == 1
        assert revoke_key(session, first.prefix).revoked_at is not None
        assert first.state(utcnow()) == "revoked"
        assert count_active_keys(session) == 0
        with pytest.raises(KeyNotFoundError):
            revoke_key(session, "sc_nothere")
        with pytest.raises(KeyNotFoundError):
            revoke_key(session, "99")
    engine.dispose()


def test_settings_put_the_database_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", database_url=None)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'd' / 'stagecheck.db'}"
    other = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://app@/stagecheck")
    assert other.resolved_database_url.startswith("postgresql")
