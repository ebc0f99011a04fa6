"""The monitoring store: models, profile windows, ingested batches, API tokens, KPIs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitored_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("predictions", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("id_column", sa.String(200), nullable=True),
        sa.Column("timestamp_column", sa.String(200), nullable=True),
        sa.Column("target_column", sa.String(200), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("registry_model", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitored_models")),
        sa.UniqueConstraint("name", name=op.f("uq_monitored_models_name")),
    )
    op.create_table(
        "profile_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("n_uploads", sa.Integer(), nullable=False),
        sa.Column("first_arrival", UTCDateTime(), nullable=False),
        sa.Column("last_arrival", UTCDateTime(), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["monitored_models.id"],
            name=op.f("fk_profile_windows_model_id_monitored_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_windows")),
        sa.UniqueConstraint("model_id", "version", "start", name="uq_window_key"),
    )
    op.create_index(
        op.f("ix_profile_windows_model_id"), "profile_windows", ["model_id"], unique=False
    )
    op.create_table(
        "ingested_batches",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["monitored_models.id"],
            name=op.f("fk_ingested_batches_model_id_monitored_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingested_batches")),
    )
    op.create_index(
        op.f("ix_ingested_batches_model_id"), "ingested_batches", ["model_id"], unique=False
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "kpis",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["monitored_models.id"],
            name=op.f("fk_kpis_model_id_monitored_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpis")),
    )
    op.create_index("ix_kpis_name_timestamp", "kpis", ["name", "timestamp"], unique=False)
    op.create_index(op.f("ix_kpis_model_id"), "kpis", ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_table("kpis")
    op.drop_table("api_tokens")
    op.drop_table("ingested_batches")
    op.drop_table("profile_windows")
    op.drop_table("monitored_models")
