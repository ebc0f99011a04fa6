"""API tokens: an optional expiry and the time of last use.

Revision ID: 1400
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "1400"
down_revision: str | None = "0001"
branch_labels = ("tokens",)
depends_on = None


def upgrade() -> None:
    # Nullable columns: SQLite adds them in place, no table copy (dashboard_sessions refers here).
    op.add_column("api_tokens", sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.add_column("api_tokens", sa.Column("last_used_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
