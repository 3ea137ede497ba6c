"""The service's settings: environment variables with the prefix STAGECHECK_, read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.errors import ServiceConfigError

DATABASE_FILE = "stagecheck.db"


class Settings(BaseSettings):
    """Everything the HTTP service and its commands can be configured with.

    Every field is read from `STAGECHECK_<FIELD>` (for example `STAGECHECK_DATA_DIR`);
    the README lists them with their defaults. Tests build their own `Settings(...)`.
    """

    model_config = SettingsConfigDict(env_prefix="STAGECHECK_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("data"),
        description="where the service writes everything it keeps (the SQLite database)",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file stagecheck.db in data_dir",
    )
    auth: Literal["enabled", "disabled"] = Field(
        default="enabled",
        description="`disabled` only for local use: every caller is let in",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="requests per key (or address) a minute; 0 turns it off"
    )
    max_text_chars: int = Field(default=200_000, ge=1, description="longest text accepted")
    max_batch_items: int = Field(default=500, ge=1, description="most items in one batch")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="largest body")
    workers: int = Field(default=1, ge=1, description="worker processes of `stagecheck serve`")
    analysis_threads: int = Field(
        default=4, ge=1, le=64, description="analyses run at once per worker, off the event loop"
    )
    rules_only: bool = Field(default=False, description="leave the learned model out")
    retention_days: int = Field(
        default=730, ge=1, description="records older than this many days are deleted"
    )
    purge_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="how often the service deletes records past retention; 0 leaves it to "
        "`stagecheck purge` (cron)",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    docs: bool = Field(default=True, description="serve /docs and /openapi.json")
    behind_https: bool = Field(
        default=False,
        description="the service is reached only over HTTPS (through a TLS proxy): send "
        "Strict-Transport-Security and mark every cookie Secure",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="signs the web page's session cookie; default: a random secret kept in "
        "<data_dir>/session.key (made on first use, shared by every worker)",
    )
    cookie_secure: bool = Field(
        default=True,
        description="send the session cookie only over HTTPS (its `Secure` flag); `false` only "
        "for plain http on your own machine",
    )
    session_hours: float = Field(
        default=10.0, gt=0, le=24 * 31, description="how long a web sign-in lasts"
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="wrong passwords in a row before an account is locked"
    )
    login_lockout_minutes: float = Field(
        default=15.0, gt=0, description="how long an account stays locked after that"
    )
    max_upload_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1, description="largest file the web page accepts"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def auth_enabled(self) -> bool:
        """Whether callers must present an API key."""
        return self.auth == "enabled"

    @property
    def resolved_data_dir(self) -> Path:
        """The data directory as an absolute path."""
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / DATABASE_FILE}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once; bad values name the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"STAGECHECK_{str(err['loc'][0]).upper()}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors(include_url=False)
        )
        raise ServiceConfigError(f"invalid settings: {problems}") from None
