"""Tables of the MLflow compatibility layer (the `mlflow` migration branch).

What MLflow's REST API has and Vigil's own tracking and registry tables do not: MLflow 3's logged
models (a model logged by a run, with its own artifact folder), artifact files that belong to no
run (a logged model's files), and where a registry version came from in MLflow's terms (its
`source` URI and the folder its files were copied from).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
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
