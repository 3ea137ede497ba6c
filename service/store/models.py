"""The tables of the service, as SQLAlchemy 2 declarative models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored without zone (SQLite has none) and always read back as UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store as naive UTC."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read as aware UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


# Named constraints, so that migrations can later alter them on SQLite (batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; Alembic migrations in service/migrations follow these models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


ORGANISATION_TYPES = ("school", "sbb")
ROLES = ("officer", "sbb", "admin")
STATUSES = ("open", "company_contacted", "resolved", "withdrawn", "no_action")


class Organisation(Base):
    """A school or SBB: every record and every key with a role belongs to one."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("type IN ('school', 'sbb')", name="type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    """An API key: only the SHA-256 of the secret is kept, with a short prefix to name it.

    A key with an organisation and a role may keep records; a key without (made with
    `keys create --name` alone) may only analyse.
    """

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IS NULL OR role IN ('officer', 'sbb', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    def state(self, now: datetime) -> str:
        """`active`, `revoked` or `expired` at `now`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class User(Base):
    """A person who signs in to the web page: an e-mail address, a password hash, a role.

    Only an Argon2 hash of the password is kept (service.store.users). `failed_logins` and
    `locked_until` implement the lock-out; raising `session_epoch` ends every session of
    the user (sign-out, password change).
    """

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('officer', 'sbb', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Record(Base):
    """A kept screening: the redacted text, its analysis, the company and the follow-up."""

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_organisation_id_created_at", "organisation_id", "created_at"),
        CheckConstraint(
            "status IN ('open', 'company_contacted', 'resolved', 'withdrawn', 'no_action')",
            name="status",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(2))
    verdict: Mapped[str] = mapped_column(String(8))
    risk: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    redactions: Mapped[dict[str, int]] = mapped_column(JSON)
    external_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    company_kvk: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    company_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    company_location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    # The database deletes the children (ON DELETE CASCADE): purge deletes in bulk.
    findings: Mapped[list[RecordFinding]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RecordFinding.position"
    )
    events: Mapped[list[RecordEvent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RecordEvent.id"
    )
    feedback: Mapped[list[Feedback]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Feedback.id"
    )


class RecordFinding(Base):
    """A finding of a record, kept apart so records can be filtered and counted by ground."""

    __tablename__ = "record_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    ground: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))


class RecordEvent(Base):
    """One change of a record's follow-up: who (key), when, the status and the note."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(16))
    status_before: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Feedback(Base):
    """An officer's judgement: of one finding (correct / incorrect), or a phrase it missed."""

    __tablename__ = "record_feedback"
    __table_args__ = (
        CheckConstraint(
            "assessment IS NULL OR assessment IN ('correct', 'incorrect')", name="assessment"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(300))
    finding_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assessment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    missed_quote: Mapped[str | None] = mapped_column(Text, nullable=True)
    missed_ground: Mapped[str | None] = mapped_column(String(32), nullable=True)
    missed_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)


JOB_STATES = ("queued", "running", "done", "failed")


class BatchJob(Base):
    """A batch of uploaded texts screened on the Batch page (service.batchjobs).

    Kept in the database so that every worker process can report its progress, and so that
    a job whose process stopped shows as interrupted instead of running forever. The texts
    are never kept: `results` holds the analyses with their quotes redacted. Jobs are
    deleted a day after they were made.
    """

    __tablename__ = "batch_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        Index("ix_batch_jobs_organisation_id_created_at", "organisation_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
