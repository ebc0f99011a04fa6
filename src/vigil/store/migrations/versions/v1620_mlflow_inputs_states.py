"""MLflow compatibility: a run's inputs (the datasets and logged models MLflow's `log_inputs`
names) and what MLflow's API keeps of a registry version: its stage (deprecated in MLflow, still
used by older scripts) and when that API last changed it.

Revision ID: 1620
Revises: 1610
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1620"
down_revision: str | None = "1610"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlflow_dataset_inputs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_mlflow_dataset_inputs_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_dataset_inputs")),
        sa.UniqueConstraint("run_id", "name", "digest", name="uq_mlflow_dataset_input"),
    )
    op.create_index("ix_mlflow_dataset_inputs_run_id", "mlflow_dataset_inputs", ["run_id"])
    op.create_table(
        "mlflow_model_inputs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_mlflow_model_inputs_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "model_id", name=op.f("pk_mlflow_model_inputs")),
    )
    op.create_table(
        "mlflow_version_states",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["registry_model_versions.id"],
            name=op.f("fk_mlflow_version_states_version_id_registry_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_mlflow_version_states")),
    )


def downgrade() -> None:
    op.drop_table("mlflow_version_states")
    op.drop_table("mlflow_model_inputs")
    op.drop_index("ix_mlflow_dataset_inputs_run_id", "mlflow_dataset_inputs")
    op.drop_table("mlflow_dataset_inputs")
