"""The model registry: registered models, versions, aliases and the append-only event log.

Revision ID: 0200
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "0200"
down_revision: str | None = "0003"
branch_labels = ("registry",)
depends_on = None


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"],
        ["registered_models.id"],
        name=op.f(f"fk_{table}_model_id_registered_models"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_models")),
        sa.UniqueConstraint("name", name=op.f("uq_registered_models_name")),
    )
    op.create_table(
        "registry_model_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(1024), nullable=False),
        sa.Column("source_format", sa.String(20), nullable=False),
        sa.Column("source_name", sa.String(500), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_size", sa.BigInteger(), nullable=False),
        sa.Column("profile_key", sa.String(1024), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("schema", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _model_fk("registry_model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_model_versions")),
        sa.UniqueConstraint("model_id", "version", name="uq_registry_version"),
    )
    op.create_index(
        op.f("ix_registry_model_versions_model_id"), "registry_model_versions", ["model_id"]
    )
    op.create_index(
        op.f("ix_registry_model_versions_run_id"), "registry_model_versions", ["run_id"]
    )
    op.create_table(
        "registry_aliases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _model_fk("registry_aliases"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_aliases")),
        sa.UniqueConstraint("model_id", "alias", name="uq_registry_alias"),
    )
    op.create_index(op.f("ix_registry_aliases_model_id"), "registry_aliases", ["model_id"])
    op.create_table(
        "registry_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("alias", sa.String(200), nullable=True),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _model_fk("registry_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_events")),
    )
    op.create_index(op.f("ix_registry_events_model_id"), "registry_events", ["model_id"])
    op.create_index(
        "ix_registry_events_model_alias_at", "registry_events", ["model_id", "alias", "at"]
    )


def downgrade() -> None:
    op.drop_table("registry_events")
    op.drop_table("registry_aliases")
    op.drop_table("registry_model_versions")
    op.drop_table("registered_models")
