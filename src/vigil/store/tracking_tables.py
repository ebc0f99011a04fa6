"""Tables of experiment tracking and data versioning (the `tracking` migration branch).

They follow MLflow's model so its REST API maps onto them: experiments (integer ids, unique
names), runs (uuid hex ids, status, start/end times in ms, artifact location), params (immutable),
tags, metrics (key, value, step, timestamp in ms) and the latest value of each metric (for search).
Datasets are content-addressed versions with a chunked manifest; `run_inputs` is the lineage.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base, UTCDateTime


class Experiment(Base):
    """A named group of runs."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    artifact_location: Mapped[str] = mapped_column(Text, default="")
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="active")
    owner: Mapped[str] = mapped_column(String(200), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class ExperimentTag(Base):
    __tablename__ = "experiment_tags"
    __table_args__ = (PrimaryKeyConstraint("experiment_id", "key"),)

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[str] = mapped_column(Text, default="")


class Run(Base):
    """One execution of training code: its status, times, owner and where its artifacts go."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_experiment_start", "experiment_id", "start_ms"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(250), default="")
    status: Mapped[str] = mapped_column(String(20))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    artifact_location: Mapped[str] = mapped_column(Text, default="")
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="active")


class RunParam(Base):
    __tablename__ = "run_params"
    __table_args__ = (
        PrimaryKeyConstraint("run_id", "key"),
        Index("ix_run_params_key_value", "key", "value"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[str] = mapped_column(String(6000))


class RunTag(Base):
    __tablename__ = "run_tags"
    __table_args__ = (PrimaryKeyConstraint("run_id", "key"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[str] = mapped_column(Text)


class RunMetric(Base):
    """Every logged point. NaN is stored as NULL (SQLite has no NaN) and read back as NaN."""

    __tablename__ = "run_metrics"
    __table_args__ = (Index("ix_run_metrics_run_key_step", "run_id", "key", "step"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class LatestMetric(Base):
    """The point with the highest (step, timestamp) of each metric of a run: what search sees."""

    __tablename__ = "latest_metrics"
    __table_args__ = (
        PrimaryKeyConstraint("run_id", "key"),
        Index("ix_latest_metrics_key_value", "key", "value"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class RunArtifact(Base):
    """A file of a run: its path as the run sees it, and the artifact-store key the store chose."""

    __tablename__ = "run_artifacts"
    __table_args__ = (PrimaryKeyConstraint("run_id", "path"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DatasetVersion(Base):
    """A content-addressed version: the SHA-256 of the full content, and the manifest of chunk
    hashes (each chunk stored once in the artifact store under `chunks/<sha256>`)."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "digest", name="uq_dataset_versions_digest"),
        UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_size: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[list[str]] = mapped_column(JSON)
    content_format: Mapped[str] = mapped_column(String(20))
    """`file` (the bytes of a file as given) or `arrow` (an Arrow IPC stream of in-memory data)."""
    source: Mapped[str] = mapped_column(Text, default="")
    profile_key: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    n_rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RunInput(Base):
    """Lineage: a run used a dataset version, in a context (training, validation, ...)."""

    __tablename__ = "run_inputs"
    __table_args__ = (PrimaryKeyConstraint("run_id", "dataset_version_id", "context"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    context: Mapped[str] = mapped_column(String(100))


class MetricSummary(Base):
    """A metric's points pre-aggregated for charts (migration 0800): at each level, the points in
    logging order are cut into buckets of `64 * 4**level` consecutive points, and each bucket
    keeps its point count, its lowest and highest point and its first point's step and time."""

    __tablename__ = "metric_summaries"
    __table_args__ = (PrimaryKeyConstraint("run_id", "key", "level", "bucket"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    level: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(BigInteger)
    first_step: Mapped[int] = mapped_column(BigInteger)
    first_ms: Mapped[int] = mapped_column(BigInteger)
    min_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    min_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
