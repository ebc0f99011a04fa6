"""Where the client's calls go: a Vigil server over HTTP (with retries), or the embedded store.

Both satisfy `Transport`. `HttpTransport` calls `vigil.api`'s one typed client (`.api`, with
retries on); `LocalTransport` (in `vigil.client.local`) makes the same calls on the services in
this process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, cast

import pyarrow as pa

from vigil.api.client import VigilApi
from vigil.api.http import ApiClient, UnavailableError
from vigil.api.routes.ingest import IngestRoutes
from vigil.api.specs import IngestResult, KpiIn, KpiOut, ModelOut, ModelSpec, WindowOut
from vigil.api.tracking import (
    ArtifactOut,
    DatasetVersionIn,
    DatasetVersionOut,
    EndRunIn,
    ExperimentOut,
    MetricPoint,
    RunData,
    RunIn,
    RunInfo,
    RunInputIn,
    RunsPage,
    SearchRunsIn,
)
from vigil.client.direct import DirectHttp
from vigil.client.local import LocalTransport
from vigil.profile import DatasetProfile

__all__ = [
    "RUN_BATCH_POINTS",
    "HttpTransport",
    "LocalTransport",
    "ServerUnavailableError",
    "Transport",
    "UnavailableError",
]

RUN_BATCH_POINTS = 50_000
"""Metric points per request of `log_run_batch` (about 4 MB of JSON)."""


ServerUnavailableError = UnavailableError
"""The server could not be reached (or kept failing) and the call was not spooled: the name
`vigil.client` has always exported for `UnavailableError`."""


class Transport(Protocol):
    """Where the client's calls go: a server over HTTP, or the embedded store."""

    def create_model(self, spec: ModelSpec) -> ModelOut: ...
    def get_model(self, name: str) -> ModelOut: ...
    def list_models(self) -> list[ModelOut]: ...
    def send(
        self, kind: str, model: str, body: bytes, *, attempts: int | None = None
    ) -> IngestResult: ...
    def send_kpi(self, kpi: KpiIn, *, attempts: int | None = None) -> KpiOut: ...
    def windows(self, model: str, params: dict[str, str]) -> list[WindowOut]: ...
    def segments(self, model: str) -> list[str]: ...
    def profile(self, model: str, params: dict[str, str]) -> DatasetProfile: ...
    def predictions(self, model: str, params: dict[str, str]) -> pa.Table: ...
    def kpis(self, params: dict[str, str]) -> list[KpiOut]: ...
    def get_experiment(self, name: str) -> ExperimentOut: ...
    def create_experiment(self, name: str) -> ExperimentOut: ...
    def create_run(self, body: RunIn) -> RunInfo: ...
    def log_run_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]],
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> None: ...
    def end_run(self, run_id: str, body: EndRunIn) -> RunInfo: ...
    def get_run(self, run_id: str) -> RunData: ...
    def search_runs(self, body: SearchRunsIn) -> RunsPage: ...
    def metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]: ...
    def put_run_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut: ...
    def missing_dataset_chunks(self, hashes: list[str]) -> list[str]: ...
    def put_dataset_chunk(self, digest: str, data: bytes) -> None: ...
    def register_dataset_version(self, body: DatasetVersionIn) -> DatasetVersionOut: ...
    def link_run_input(self, run_id: str, body: RunInputIn) -> None: ...
    def close(self) -> None: ...


class HttpTransport:
    """Calls a Vigil server through `api` (`vigil.api`'s typed client); retries connection
    errors, 429 and 5xx with exponential backoff, then raises `UnavailableError` (the client
    spools a log call that ends so).

    Log and label batches go through `ingest`: the same routes, retries and error mapping, on the
    same `httpx.Client`'s settings, sent over a kept-alive connection of their own or through its
    transport (`vigil.client.direct`)."""

    def __init__(
        self, url: str, token: str | None, *, timeout: float, retries: int, backoff: float
    ) -> None:
        self.api = VigilApi(url, token, timeout=timeout, retries=retries, backoff=backoff)
        self._direct = DirectHttp(self.api.http)
        # DirectHttp offers what ApiClient calls on its httpx.Client: request and base_url.
        self.ingest = IngestRoutes(
            ApiClient(url, token, http=cast(Any, self._direct), retries=retries, backoff=backoff)
        )

    def create_model(self, spec: ModelSpec) -> ModelOut:
        return self.api.models.create(spec)

    def get_model(self, name: str) -> ModelOut:
        return self.api.models.get(name)

    def list_models(self) -> list[ModelOut]:
        return self.api.models.all()

    def send(
        self, kind: str, model: str, body: bytes, *, attempts: int | None = None
    ) -> IngestResult:
        return self.ingest.send(_kind(kind), model, body, attempts=attempts)

    def send_kpi(self, kpi: KpiIn, *, attempts: int | None = None) -> KpiOut:
        return self.api.kpis.log(kpi, attempts=attempts)

    def windows(self, model: str, params: dict[str, str]) -> list[WindowOut]:
        return self.api.models.windows(model, params)

    def segments(self, model: str) -> list[str]:
        return self.api.models.segments(model)

    def profile(self, model: str, params: dict[str, str]) -> DatasetProfile:
        return self.api.models.profile(model, params)

    def predictions(self, model: str, params: dict[str, str]) -> pa.Table:
        return self.api.models.predictions(model, params)

    def kpis(self, params: dict[str, str]) -> list[KpiOut]:
        return self.api.kpis.all(params)

    # experiment tracking ----------------------------------------------------------------------

    def get_experiment(self, name: str) -> ExperimentOut:
        return self.api.runs.get_experiment(name)

    def create_experiment(self, name: str) -> ExperimentOut:
        return self.api.runs.create_experiment(name)

    def create_run(self, body: RunIn) -> RunInfo:
        return self.api.runs.create(body)

    def log_run_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]],
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> None:
        """One request per `RUN_BATCH_POINTS` metric points (params and tags go with the first)."""
        first = True
        for start in range(0, max(len(metrics), 1), RUN_BATCH_POINTS):
            points = metrics[start : start + RUN_BATCH_POINTS]
            body: dict[str, Any] = {
                "metrics": [
                    {"key": k, "value": v, "step": s, "timestamp_ms": t} for k, v, s, t in points
                ]
            }
            if first:
                body["params"] = dict(params)
                body["tags"] = dict(tags)
                first = False
            self.api.runs.log_batch(run_id, body)

    def end_run(self, run_id: str, body: EndRunIn) -> RunInfo:
        return self.api.runs.end(run_id, body)

    def get_run(self, run_id: str) -> RunData:
        return self.api.runs.get(run_id)

    def search_runs(self, body: SearchRunsIn) -> RunsPage:
        return self.api.runs.search(body)

    def metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        return self.api.runs.metric_history(run_id, key, max_points)

    def put_run_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut:
        return self.api.runs.put_artifact(run_id, path, data)

    def missing_dataset_chunks(self, hashes: list[str]) -> list[str]:
        return self.api.datasets.missing_chunks(hashes)

    def put_dataset_chunk(self, digest: str, data: bytes) -> None:
        self.api.datasets.put_chunk(digest, data)

    def register_dataset_version(self, body: DatasetVersionIn) -> DatasetVersionOut:
        return self.api.datasets.register_version(body)

    def link_run_input(self, run_id: str, body: RunInputIn) -> None:
        self.api.runs.link_input(run_id, body)

    def close(self) -> None:
        self._direct.close()
        self.api.close()


def _kind(kind: str) -> Literal["log", "labels"]:
    if kind == "log":
        return "log"
    if kind == "labels":
        return "labels"
    raise ValueError(f"a batch is 'log' or 'labels', got {kind!r}")
