"""Monitored models: the label coverage from which a window's realized performance counts as
complete; NULL (the default, 0.5) for every model created before.

Revision ID: 1600
Revises: 1510
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1600"
down_revision: str | None = "1510"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("monitored_models", sa.Column("min_label_coverage", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitored_models") as batch:
        batch.drop_column("min_label_coverage")
