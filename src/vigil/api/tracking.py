"""Typed values of experiment tracking: what the tracking service returns and the client reads."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, field_validator

from vigil.caps import MAX_MANIFEST_CHUNKS, MAX_METRIC_POINTS, MAX_NAMES, MAX_TAGS
from vigil.ranges import EpochMs
from vigil.report.notebook import NotebookResult, Tone

if TYPE_CHECKING:
    import pandas as pd


class RunStatus(StrEnum):
    """A run's state; `running` until it ends, `failed` on an exception, `killed` on Ctrl-C."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExperimentOut(_Frozen):
    id: int
    name: str
    artifact_location: str
    lifecycle_stage: str
    owner: str
    created_ms: int
    updated_ms: int


class RunInfo(_Frozen):
    """A run's attributes (MLflow's RunInfo): times are milliseconds since the epoch, UTC."""

    id: str
    experiment_id: int
    name: str
    status: RunStatus
    start_ms: int
    end_ms: int | None
    owner: str
    parent_id: str | None
    artifact_location: str
    lifecycle_stage: str

    @property
    def run_id(self) -> str:
        """The run's id under MLflow's name (`run.info.run_id`)."""
        return self.id

    @property
    def run_name(self) -> str:
        """The run's name under MLflow's name (`run.info.run_name`)."""
        return self.name

    @property
    def start_time(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.start_ms / 1000, dt.UTC)

    @property
    def end_time(self) -> dt.datetime | None:
        return (
            None if self.end_ms is None else dt.datetime.fromtimestamp(self.end_ms / 1000, dt.UTC)
        )


class MetricPoint(_Frozen):
    key: str
    value: float
    step: int
    timestamp_ms: int


class RunData(_Frozen):
    """A run with its params, tags and the latest value of each metric."""

    info: RunInfo
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]

    @property
    def id(self) -> str:
        return self.info.id

    def flat(self) -> dict[str, Any]:
        """One row: attributes, then `metrics.*`, `params.*`, `tags.*` columns."""
        row: dict[str, Any] = {
            "run_id": self.info.id,
            "experiment_id": self.info.experiment_id,
            "run_name": self.info.name,
            "status": self.info.status.value,
            "start_time": self.info.start_time,
            "end_time": self.info.end_time,
            "owner": self.info.owner,
            "parent_id": self.info.parent_id,
        }
        row.update({f"metrics.{k}": v for k, v in sorted(self.metrics.items())})
        row.update({f"params.{k}": v for k, v in sorted(self.params.items())})
        row.update({f"tags.{k}": v for k, v in sorted(self.tags.items())})
        return row


class RunsPage(_Frozen):
    """One page of `search_runs`; pass `next_page_token` back for the next one."""

    runs: list[RunData]
    next_page_token: str | None

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([run.flat() for run in self.runs])

    def __len__(self) -> int:
        return len(self.runs)


class ArtifactOut(_Frozen):
    run_id: str
    path: str
    key: str
    size: int
    sha256: str


class RunComparison(NotebookResult, _Frozen):
    """Runs side by side: each metric's latest value and each param per run, and the params whose
    values differ between the runs."""

    run_ids: list[str]
    metrics: dict[str, dict[str, float | None]]
    params: dict[str, dict[str, str | None]]
    param_differences: list[str]

    @classmethod
    def of(cls, runs: Sequence[RunData]) -> RunComparison:
        """Metrics (latest values) and params of `runs` side by side, in their order."""
        metric_keys = sorted({k for r in runs for k in r.metrics})
        param_keys = sorted({k for r in runs for k in r.params})
        metrics = {
            k: {r.id: nan_to_none(r.metrics[k]) if k in r.metrics else None for r in runs}
            for k in metric_keys
        }
        params = {k: {r.id: r.params.get(k) for r in runs} for k in param_keys}
        differences = [k for k, values in params.items() if len(set(values.values())) > 1]
        return cls(
            run_ids=[r.id for r in runs],
            metrics=metrics,
            params=params,
            param_differences=differences,
        )

    def metrics_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.metrics, index=self.run_ids).T.reindex(columns=self.run_ids)

    def to_pandas(self) -> pd.DataFrame:
        """Metrics then params (keys as rows, `metrics.` / `params.` prefixed), runs as columns."""
        import pandas as pd

        rows: dict[str, dict[str, Any]] = {}
        for key, values in sorted(self.metrics.items()):
            rows[f"metrics.{key}"] = dict(values)
        for key, pvalues in sorted(self.params.items()):
            rows[f"params.{key}"] = dict(pvalues)
        return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=self.run_ids)

    _flag = "differs"

    def _columns(self) -> tuple[str, ...]:
        return ("key", *self.run_ids)

    def _rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for key, values in sorted(self.metrics.items()):
            rows.append({"key": f"metrics.{key}", **values})
        for key, pvalues in sorted(self.params.items()):
            differs = key in self.param_differences
            rows.append({"key": f"params.{key}", "differs": differs, **pvalues})
        return rows

    def _headline(self) -> tuple[str, Tone]:
        return (
            f"{len(self.run_ids)} runs, {len(self.metrics)} metrics, {len(self.params)} params "
            f"({len(self.param_differences)} differ)",
            "neutral",
        )


def nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def none_to_nan(value: float | None) -> float:
    return math.nan if value is None else value


class DatasetVersionOut(_Frozen):
    """A content-addressed dataset version: `digest` is the SHA-256 of the full content."""

    id: int
    name: str
    version: int
    digest: str
    size: int
    chunk_size: int
    n_chunks: int
    content_format: str
    source: str
    n_rows: int | None
    has_profile: bool
    owner: str
    created_at: dt.datetime

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


# requests of the /api/v1 tracking routes ----------------------------------------------------


class ExperimentIn(_Frozen):
    name: str = Field(min_length=1, max_length=500)


class RunIn(_Frozen):
    """A new run in `experiment`: a name (the experiment is created when missing) or an id."""

    experiment: int | str
    name: str = Field(default="", max_length=250)
    parent_id: str | None = Field(default=None, max_length=32)
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS)
    start_ms: EpochMs | None = None


class MetricIn(_Frozen):
    key: str = Field(min_length=1, max_length=250)
    value: float
    step: int = 0
    timestamp_ms: EpochMs


class LogBatchIn(_Frozen):
    """Metric points, params and tags of one run, written in one transaction.

    A point sent twice in one batch (same key, step, timestamp and value) is recorded once.
    """

    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_METRIC_POINTS)
    params: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS)
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS)

    @field_validator("metrics")
    @classmethod
    def _once(cls, metrics: list[MetricIn]) -> list[MetricIn]:
        return list(dict.fromkeys(metrics)) if len(set(metrics)) < len(metrics) else metrics


class EndRunIn(_Frozen):
    status: RunStatus = RunStatus.FINISHED
    end_ms: EpochMs | None = None


class SearchRunsIn(_Frozen):
    experiments: list[str | int] | None = Field(default=None, max_length=MAX_NAMES)
    filter: str | None = Field(default=None, max_length=10_000)
    order_by: list[str] = Field(default_factory=list, max_length=20)
    max_results: int = Field(default=1000, ge=1, le=50_000)
    page_token: str | None = Field(default=None, max_length=1000)
    actor: str | None = Field(
        default=None, max_length=200, description="Only runs this person started (their owner)."
    )


class DatasetVersionIn(_Frozen):
    """A version to register: its chunks are stored already (see `missing` and `put_chunk`)."""

    name: str = Field(min_length=1, max_length=200)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    chunk_size: int = Field(ge=1024)
    manifest: list[str] = Field(
        max_length=MAX_MANIFEST_CHUNKS,
        description="The chunks' SHA-256 in order; a repeated chunk is listed again, stored once.",
    )
    content_format: Literal["file", "arrow"]
    source: str = Field(default="", max_length=4000)
    profile: Base64Bytes | None = None


class RunInputIn(_Frozen):
    dataset_version_id: int
    context: str = Field(default="training", min_length=1, max_length=100)


class ChunkHashes(_Frozen):
    hashes: list[str] = Field(max_length=1_000_000)
