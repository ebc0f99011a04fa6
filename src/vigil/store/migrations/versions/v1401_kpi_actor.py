"""KPIs: who logged each value.

Revision ID: 1401
Revises: 1400
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1401"
down_revision: str | None = "1400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "kpis", sa.Column("created_by", sa.String(200), server_default="", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("kpis") as batch:
        batch.drop_column("created_by")
