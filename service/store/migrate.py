"""Schema migrations: apply them (`stagecheck db upgrade`) and refuse a database that is behind."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from service.errors import DatabaseAheadError, DatabaseBehindError, DatabaseUnreachableError
from service.store.db import make_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The newest revision, named here so that the start-up check reads one row instead of
# importing Alembic and parsing every migration (about 0.3 s of each cold start, issue 7).
# tests/service/test_records_store.py checks that it is Alembic's head.
HEAD_REVISION = "0004_batch_jobs"
VERSION_TABLE = "alembic_version"  # Alembic's default


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url`, without an alembic.ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; a password may hold one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    # Parsed once per process: the migrations do not change while it runs.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    """The newest schema revision this release knows."""
    return HEAD_REVISION


def alembic_head() -> str | None:
    """The newest revision as Alembic finds it in the migration scripts."""
    return _scripts().get_current_head()


def _current_revision(connection: Connection) -> str | None:
    """The database's revision: the one row of Alembic's version table, None without it.

    What MigrationContext.get_current_revision reads, without importing Alembic; a table
    with several rows (branches, which this project never makes) is left to Alembic.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows: list[str] = list(
        connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    )
    if len(rows) <= 1:
        return rows[0] if rows else None
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against this release's migrations."""

    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """Whether the database has exactly this release's newest revision."""
        return self.current == self.head


def schema_status(engine: Engine) -> SchemaStatus:
    """The database's revision and the newest one; raise DatabaseUnreachableError if closed."""
    try:
        with engine.connect() as connection:
            current = _current_revision(connection)
    except SQLAlchemyError as exc:
        raise DatabaseUnreachableError(
            f"cannot read the schema revision of {engine.url.render_as_string(hide_password=True)}: "
            f"{type(exc).__name__}"
        ) from exc
    return SchemaStatus(current=current, head=head_revision())


def require_current_schema(engine: Engine) -> None:
    """Raise DatabaseBehindError (or DatabaseAheadError) unless the schema is the newest."""
    status = schema_status(engine)
    if status.up_to_date:
        return
    where = engine.url.render_as_string(hide_password=True)
    known = {rev.revision for rev in _scripts().walk_revisions()}
    if status.current is not None and status.current not in known:
        raise DatabaseAheadError(
            f"database {where} has schema revision {status.current!r}, which this release "
            f"does not know (its newest is {status.head!r}); it was made by a newer Stagecheck"
        )
    raise DatabaseBehindError(
        f"database {where} is at schema revision {status.current or 'none (empty)'}, this "
        f"release needs {status.head}; run `stagecheck db upgrade`"
    )


def upgrade(database_url: str) -> SchemaStatus:
    """Apply every migration up to the newest; returns the status after."""
    from alembic import command

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return schema_status(engine)
    finally:
        engine.dispose()
