"""Per-segment windows: a window is keyed by model, version, segment and start.

Existing windows become the whole-traffic windows (segment "").

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot alter a constraint in place (Alembic copies the table there).
    with op.batch_alter_table("profile_windows") as batch:
        batch.add_column(sa.Column("segment", sa.String(400), server_default="", nullable=False))
        batch.drop_constraint("uq_window_key", type_="unique")
        batch.create_unique_constraint("uq_window_key", ["model_id", "version", "segment", "start"])


def downgrade() -> None:
    op.execute("DELETE FROM profile_windows WHERE segment <> ''")
    with op.batch_alter_table("profile_windows") as batch:
        batch.drop_constraint("uq_window_key", type_="unique")
        batch.create_unique_constraint("uq_window_key", ["model_id", "version", "start"])
        batch.drop_column("segment")
