"""MLflow compatibility: logged models, artifact files outside runs, MLflow sources of versions;
and the tracking branch's pre-aggregated metric summaries (a downsampled chart of a long history).

Revision ID: 0800
Revises: 0100
Depends on: 0200 (registry: model versions)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "0800"
down_revision: str | None = "0100"
branch_labels = ("mlflow",)
depends_on = ("0200",)


def upgrade() -> None:
    op.create_table(
        "mlflow_logged_models",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("model_type", sa.String(250), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("artifact_path", sa.String(1000), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_mlflow_logged_models_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_logged_models")),
    )
    op.create_index(
        "ix_mlflow_logged_models_experiment_id", "mlflow_logged_models", ["experiment_id"]
    )
    op.create_index(
        "ix_mlflow_logged_models_source_run_id", "mlflow_logged_models", ["source_run_id"]
    )
    op.create_table(
        "mlflow_artifact_files",
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_mlflow_artifact_files")),
    )
    op.create_table(
        "mlflow_version_sources",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("storage_path", sa.String(1000), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.Column("run_link", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["registry_model_versions.id"],
            name=op.f("fk_mlflow_version_sources_version_id_registry_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_mlflow_version_sources")),
    )

    op.create_table(
        "metric_summaries",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_step", sa.BigInteger(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("min_step", sa.BigInteger(), nullable=True),
        sa.Column("min_ms", sa.BigInteger(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("max_step", sa.BigInteger(), nullable=True),
        sa.Column("max_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_metric_summaries_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "key", "level", "bucket", name=op.f("pk_metric_summaries")
        ),
    )


def downgrade() -> None:
    op.drop_table("metric_summaries")
    op.drop_table("mlflow_version_sources")
    op.drop_table("mlflow_artifact_files")
    op.drop_index("ix_mlflow_logged_models_source_run_id", "mlflow_logged_models")
    op.drop_index("ix_mlflow_logged_models_experiment_id", "mlflow_logged_models")
    op.drop_table("mlflow_logged_models")
