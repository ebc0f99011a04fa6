"""Collaboration and the model lifecycle: the event outbox, webhook subscriptions and their
deliveries; who created and changed monitors and channels; retired model versions.

Revision ID: 0500
Revises: 0300 (monitor)
Depends on: 0100 (tracking), 0200 (registry), 0004 (core)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "0500"
down_revision: str | None = "0300"
branch_labels = ("collab",)
depends_on = ("0100", "0200", "0004")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_type_id", "events", ["type", "id"])
    op.create_index("ix_events_subject_id", "events", ["subject", "id"])
    op.create_index("ix_events_actor_id", "events", ["actor", "id"])
    op.create_table(
        "event_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_subscriptions")),
        sa.UniqueConstraint("name", name=op.f("uq_event_subscriptions_name")),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", _id(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["event_subscriptions.id"],
            name=op.f("fk_event_deliveries_subscription_id_event_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
    )
    op.create_index(
        op.f("ix_event_deliveries_event_id"), "event_deliveries", ["event_id"], unique=False
    )
    op.create_index(
        op.f("ix_event_deliveries_subscription_id"),
        "event_deliveries",
        ["subscription_id"],
        unique=False,
    )
    op.create_index(
        "ix_event_deliveries_state_next", "event_deliveries", ["state", "next_attempt_at"]
    )
    with op.batch_alter_table("registry_model_versions") as batch:
        batch.add_column(
            sa.Column("lifecycle", sa.String(20), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("retired_by", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("retired_at", UTCDateTime(), nullable=True))
    for table in ("monitors", "alert_channels"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("created_by", sa.String(200), nullable=False, server_default="")
            )
            batch.add_column(
                sa.Column("updated_by", sa.String(200), nullable=False, server_default="")
            )


def downgrade() -> None:
    for table in ("alert_channels", "monitors"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("updated_by")
            batch.drop_column("created_by")
    with op.batch_alter_table("registry_model_versions") as batch:
        batch.drop_column("retired_at")
        batch.drop_column("retired_by")
        batch.drop_column("lifecycle")
    op.drop_table("event_deliveries")
    op.drop_table("event_subscriptions")
    op.drop_table("events")
