"""Profile window parts: a log call appends its profile as a part of its window instead of
decoding, merging and re-encoding the window's profile under a row lock; parts are merged when
read and folded into the window in the background.

Revision ID: 1640
Revises: 1630
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "1640"
down_revision: str | None = "1630"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profile_window_parts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["profile_windows.id"],
            name=op.f("fk_profile_window_parts_window_id_profile_windows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_window_parts")),
    )
    op.create_index("ix_profile_window_parts_window_id", "profile_window_parts", ["window_id"])


def downgrade() -> None:
    op.drop_index("ix_profile_window_parts_window_id", "profile_window_parts")
    op.drop_table("profile_window_parts")
