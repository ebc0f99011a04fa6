"""Compaction of prediction and label files: a batch can be superseded by the compacted file.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingested_batches") as batch:
        batch.add_column(sa.Column("superseded_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingested_batches") as batch:
        batch.drop_column("superseded_by")
