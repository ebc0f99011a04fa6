"""Explainability: global feature importances of runs and model versions, and per-window sums of
production attributions.

Revision ID: 0600
Revises: 0100
Depends on: 0200 (registry: model versions); hangs off 0100 (tracking: runs)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "0600"
down_revision: str | None = "0100"
branch_labels = ("explain",)
depends_on = ("0200",)


def upgrade() -> None:
    op.create_table(
        "feature_importances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_feature_importances_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["registry_model_versions.id"],
            name=op.f("fk_feature_importances_model_version_id_registry_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_importances")),
    )
    op.create_index(
        "ix_feature_importances_run_method",
        "feature_importances",
        ["run_id", "method", "id"],
        unique=False,
    )
    op.create_index(
        "ix_feature_importances_version_method",
        "feature_importances",
        ["model_version_id", "method", "id"],
        unique=False,
    )
    op.create_table(
        "attribution_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("sums", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["monitored_models.id"],
            name=op.f("fk_attribution_windows_model_id_monitored_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribution_windows")),
        sa.UniqueConstraint("model_id", "version", "start", name="uq_attribution_window"),
    )
    op.create_index(
        op.f("ix_attribution_windows_model_id"), "attribution_windows", ["model_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("attribution_windows")
    op.drop_table("feature_importances")
