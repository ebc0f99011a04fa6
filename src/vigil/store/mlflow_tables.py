"""Tables of the MLflow compatibility layer (the `mlflow` migration branch).

What MLflow's REST API has and Vigil's own tracking and registry tables do not: MLflow 3's logged
models (a model logged by a run, with its own artifact folder), artifact files that belong to no
run (a logged model's files), where a registry version came from in MLflow's terms (its `source`
URI and the folder its files were copied from), a run's inputs (the datasets and logged models
`log_inputs` names) and the deprecated model-version stages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base, UTCDateTime


class MlflowLoggedModel(Base):
    """An MLflow 3 logged model: `m-<hex>`, its experiment, source run and artifact folder."""

    __tablename__ = "mlflow_logged_models"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(250), default="")
    source_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    model_type: Mapped[str] = mapped_column(String(250), default="")
    status: Mapped[str] = mapped_column(String(30), default="PENDING")
    artifact_path: Mapped[str] = mapped_column(String(1000))
    """The folder under the proxied artifact root: `<experiment id>/models/<model id>/artifacts`."""
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    tags: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Metrics logged for the model (`model_id` set on a logged metric): MLflow's model metrics."""
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class MlflowArtifactFile(Base):
    """A file uploaded through MLflow's artifact proxy outside any run's folder, and the
    artifact-store key the server chose for it."""

    __tablename__ = "mlflow_artifact_files"

    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MlflowVersionSource(Base):
    """A registry version created through MLflow's API: the `source` URI it was given and the
    proxied artifact folder holding its files (what `get-download-uri` answers)."""

    __tablename__ = "mlflow_version_sources"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("registry_model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(Text)
    storage_path: Mapped[str] = mapped_column(String(1000))
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_link: Mapped[str] = mapped_column(Text, default="")


class MlflowDatasetInput(Base):
    """A dataset a run used, as MLflow's `log_inputs` describes it (name, digest, source, schema,
    profile; not its content), with the input's tags (`mlflow.data.context`: training, ...);
    once per run, name and digest."""

    __tablename__ = "mlflow_dataset_inputs"
    __table_args__ = (UniqueConstraint("run_id", "name", "digest", name="uq_mlflow_dataset_input"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(36))
    source_type: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(Text)
    schema: Mapped[str] = mapped_column(Text, default="")
    profile: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON)


class MlflowModelInput(Base):
    """A logged model a run used (MLflow 3: a metric logged for a model the run did not log)."""

    __tablename__ = "mlflow_model_inputs"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class MlflowVersionState(Base):
    """What MLflow's API keeps of a registry version beside Vigil's own columns: its stage
    (`None`, `Staging`, `Production`, `Archived`; deprecated in MLflow, still used by older
    scripts; Vigil's own API uses aliases) and when MLflow's API last changed it. No row: stage
    `None`, last updated when created."""

    __tablename__ = "mlflow_version_states"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("registry_model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(20), default="None")
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    """The version's `last_updated_timestamp` in MLflow's API (a stage or description change)."""
