"""Monitored models: the features stored with each prediction row (for direct loss estimation of
regression models); NULL, none, for every model created before.

Revision ID: 1610
Revises: 1600
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1610"
down_revision: str | None = "1600"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("monitored_models", sa.Column("row_features", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitored_models") as batch:
        batch.drop_column("row_features")
