"""Schema migrations: apply them (`stagecheck db upgrade`) and refuse a database that is behind."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.errors import DatabaseAheadError, DatabaseBehindError, DatabaseUnreachableError
from service.store.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url`, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; a password may hold one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    # Parsed once per process: the migrations do not change while it runs.
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    """The newest schema revision this release knows."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships its revisions
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


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
            current = MigrationContext.configure(connection).get_current_revision()
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
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return schema_status(engine)
    finally:
        engine.dispose()
