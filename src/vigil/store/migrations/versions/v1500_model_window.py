"""Monitored models: a time grid that `window_seconds` cannot say (weeks on Mondays, months,
quarters, years, a time zone, lengths over 31 days); NULL for every model created before.

Revision ID: 1500
Revises: 1401
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1500"
down_revision: str | None = "1401"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("monitored_models", sa.Column("window", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitored_models") as batch:
        batch.drop_column("window")
