"""Window kinds: each profile window keeps the column kinds of its profile and parts, updated by
every upload under the window's row lock, so that checking an upload against its window reads one
short text instead of decoding the window's pieces (which a process had to do for every window
another process had uploaded to since).

Revision ID: 1650
Revises: 1640
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1650"
down_revision: str | None = "1640"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for the windows stored so far: the next upload to each computes its kinds.
    op.add_column("profile_windows", sa.Column("kinds", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profile_windows") as batch:
        batch.drop_column("kinds")
