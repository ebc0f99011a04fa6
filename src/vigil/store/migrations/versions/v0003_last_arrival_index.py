"""Index windows by model and last arrival, so /metrics finds each model's latest arrival fast.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_profile_windows_model_last_arrival",
        "profile_windows",
        ["model_id", "last_arrival"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_profile_windows_model_last_arrival", table_name="profile_windows")
