"""records: organisations, keys with an organisation and a role, records with their
findings, follow-up history and feedback

Revision ID: 0002_records
Revises: 0001_api_keys
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_records"
down_revision: str | None = "0001_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create organisations and the record tables; give keys an organisation and a role."""
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("type IN ('school', 'sbb')", name=op.f("ck_organisations_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    # Batch mode: SQLite cannot add a foreign key to an existing table, so the table is
    # copied; PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_keys_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch.create_check_constraint(
            op.f("ck_api_keys_role"), "role IS NULL OR role IN ('officer', 'sbb', 'admin')"
        )
        batch.create_index(op.f("ix_api_keys_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=False),
        sa.Column("redactions", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("reference", sa.String(length=2000), nullable=True),
        sa.Column("company_kvk", sa.String(length=8), nullable=True),
        sa.Column("company_name", sa.String(length=300), nullable=True),
        sa.Column("company_location", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'company_contacted', 'resolved', 'withdrawn', 'no_action')",
            name=op.f("ck_records_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_records_created_by_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_records_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
    )
    op.create_index(op.f("ix_records_company_kvk"), "records", ["company_kvk"], unique=False)
    op.create_index(op.f("ix_records_created_at"), "records", ["created_at"], unique=False)
    op.create_index(op.f("ix_records_status"), "records", ["status"], unique=False)
    op.create_index(
        "ix_records_organisation_id_created_at",
        "records",
        ["organisation_id", "created_at"],
        unique=False,
    )

    op.create_table(
        "record_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ground", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_findings_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_findings")),
    )
    op.create_index(op.f("ix_record_findings_ground"), "record_findings", ["ground"], unique=False)
    op.create_index(
        op.f("ix_record_findings_record_id"), "record_findings", ["record_id"], unique=False
    )

    op.create_table(
        "record_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status_before", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_record_events_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_events_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_events")),
    )
    op.create_index(
        op.f("ix_record_events_record_id"), "record_events", ["record_id"], unique=False
    )

    op.create_table(
        "record_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("finding_index", sa.Integer(), nullable=True),
        sa.Column("assessment", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("missed_quote", sa.Text(), nullable=True),
        sa.Column("missed_ground", sa.String(length=32), nullable=True),
        sa.Column("missed_severity", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "assessment IS NULL OR assessment IN ('correct', 'incorrect')",
            name=op.f("ck_record_feedback_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_record_feedback_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_feedback_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_feedback")),
    )
    op.create_index(
        op.f("ix_record_feedback_record_id"), "record_feedback", ["record_id"], unique=False
    )


def downgrade() -> None:
    """Drop the record tables and organisations; keys lose organisation and role."""
    op.drop_index(op.f("ix_record_feedback_record_id"), table_name="record_feedback")
    op.drop_table("record_feedback")
    op.drop_index(op.f("ix_record_events_record_id"), table_name="record_events")
    op.drop_table("record_events")
    op.drop_index(op.f("ix_record_findings_record_id"), table_name="record_findings")
    op.drop_index(op.f("ix_record_findings_ground"), table_name="record_findings")
    op.drop_table("record_findings")
    op.drop_index("ix_records_organisation_id_created_at", table_name="records")
    op.drop_index(op.f("ix_records_status"), table_name="records")
    op.drop_index(op.f("ix_records_created_at"), table_name="records")
    op.drop_index(op.f("ix_records_company_kvk"), table_name="records")
    op.drop_table("records")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index(op.f("ix_api_keys_organisation_id"))
        batch.drop_constraint(op.f("ck_api_keys_role"), type_="check")
        batch.drop_constraint(op.f("fk_api_keys_organisation_id_organisations"), type_="foreignkey")
        batch.drop_column("role")
        batch.drop_column("organisation_id")
    op.drop_table("organisations")
