"""Retention policies: per model, how long raw rows, fine windows, alerts and events are kept
(no row, or NULL, keeps them for ever).

Revision ID: 1630
Revises: 1620
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "1630"
down_revision: str | None = "1620"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("rows_days", sa.Integer(), nullable=True),
        sa.Column("daily_after_days", sa.Integer(), nullable=True),
        sa.Column("monthly_after_days", sa.Integer(), nullable=True),
        sa.Column("alerts_days", sa.Integer(), nullable=True),
        sa.Column("events_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["monitored_models.id"],
            name=op.f("fk_retention_policies_model_id_monitored_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_retention_policies")),
    )


def downgrade() -> None:
    op.drop_table("retention_policies")
