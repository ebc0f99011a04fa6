"""Where the client's calls go: a Vigil server over HTTP (with retries), or the embedded store."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import pyarrow as pa

from vigil.api.specs import IngestResult, KpiIn, KpiOut, ModelOut, ModelSpec, WindowOut
from vigil.api.tracking import (
    ArtifactOut,
    ChunkHashes,
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
from vigil.api.wire import CONTENT_TYPE, LabelBatch, LogBatch, ipc_to_table
from vigil.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    VigilError,
)
from vigil.profile import DatasetProfile

if TYPE_CHECKING:
    from vigil.tracking.datasets import DatasetService
    from vigil.tracking.service import TrackingService

RUN_BATCH_POINTS = 50_000
"""Metric points per request of `log_run_batch` (about 4 MB of JSON)."""


class ServerUnavailableError(VigilError):
    """The server could not be reached (or kept failing) and the call was not spooled."""

    status_code = 503
    code = "server_unavailable"


_ERRORS: dict[int, type[VigilError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InvalidInputError,
}


class Transport(Protocol):
    """Where the client's calls go: a server over HTTP, or the embedded store."""

    def create_model(self, spec: ModelSpec) -> ModelOut: ...
    def get_model(self, name: str) -> ModelOut: ...
    def list_models(self) -> list[ModelOut]: ...
    def send(self, kind: str, model: str, body: bytes) -> IngestResult: ...
    def send_kpi(self, kpi: KpiIn) -> KpiOut: ...
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


class UnavailableError(Exception):
    """A transient failure: worth a retry, and a spool entry if retries run out."""


class HttpTransport:
    """Calls a Vigil server; retries connection errors, 429 and 5xx with exponential backoff."""

    def __init__(
        self, url: str, token: str | None, *, timeout: float, retries: int, backoff: float
    ) -> None:
        httpx = _require("httpx", "to talk to a Vigil server")
        self._httpx = httpx
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)
        self.retries = retries
        self.backoff = backoff

    def _request(
        self, method: str, path: str, *, attempts: int | None = None, **kwargs: Any
    ) -> Any:
        attempts = self.retries + 1 if attempts is None else attempts
        last = ""
        for attempt in range(attempts):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                time.sleep(delay * (0.5 + random.random()))
            try:
                response = self._http.request(method, path, **kwargs)
            except self._httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                raise _error_from(response.status_code, response)
            return response
        raise UnavailableError(
            f"{method} {self._http.base_url}{path} failed {attempts} time(s): {last}"
        )

    def create_model(self, spec: ModelSpec) -> ModelOut:
        response = self._request("POST", "/api/v1/models", json=spec.model_dump(mode="json"))
        return ModelOut.model_validate(response.json())

    def get_model(self, name: str) -> ModelOut:
        return ModelOut.model_validate(self._request("GET", f"/api/v1/models/{_q(name)}").json())

    def list_models(self) -> list[ModelOut]:
        return [ModelOut.model_validate(m) for m in self._request("GET", "/api/v1/models").json()]

    def send(
        self, kind: str, model: str, body: bytes, *, attempts: int | None = None
    ) -> IngestResult:
        response = self._request(
            "POST",
            f"/api/v1/models/{_q(model)}/{kind}",
            content=body,
            headers={"Content-Type": CONTENT_TYPE},
            attempts=attempts,
        )
        return IngestResult.model_validate(response.json())

    def send_kpi(self, kpi: KpiIn, *, attempts: int | None = None) -> KpiOut:
        body = kpi.model_dump(mode="json")
        response = self._request("POST", "/api/v1/kpis", json=body, attempts=attempts)
        return KpiOut.model_validate(response.json())

    def _pages(self, path: str, params: dict[str, str]) -> list[Any]:
        """Every page of a list the server answers a bounded page at a time."""
        items: list[Any] = []
        page = dict(params)
        while True:
            response = self._request("GET", path, params=page)
            items.extend(response.json())
            following = response.headers.get("X-Vigil-Next-Start")
            if not following:
                return items
            page = {**page, "start": following}

    def windows(self, model: str, params: dict[str, str]) -> list[WindowOut]:
        pages = self._pages(f"/api/v1/models/{_q(model)}/windows", params)
        return [WindowOut.model_validate(w) for w in pages]

    def segments(self, model: str) -> list[str]:
        response = self._request("GET", f"/api/v1/models/{_q(model)}/segments")
        return [str(key) for key in response.json()]

    def profile(self, model: str, params: dict[str, str]) -> DatasetProfile:
        response = self._request("GET", f"/api/v1/models/{_q(model)}/profile", params=params)
        return DatasetProfile.from_bytes(response.content)

    def predictions(self, model: str, params: dict[str, str]) -> pa.Table:
        response = self._request("GET", f"/api/v1/models/{_q(model)}/predictions", params=params)
        return ipc_to_table(response.content)

    def kpis(self, params: dict[str, str]) -> list[KpiOut]:
        return [KpiOut.model_validate(k) for k in self._pages("/api/v1/kpis", params)]

    # experiment tracking ----------------------------------------------------------------------

    def get_experiment(self, name: str) -> ExperimentOut:
        response = self._request("GET", f"/api/v1/experiments/{_q(name)}")
        return ExperimentOut.model_validate(response.json())

    def create_experiment(self, name: str) -> ExperimentOut:
        response = self._request("POST", "/api/v1/experiments", json={"name": name})
        return ExperimentOut.model_validate(response.json())

    def create_run(self, body: RunIn) -> RunInfo:
        response = self._request("POST", "/api/v1/runs", json=body.model_dump(mode="json"))
        return RunInfo.model_validate(response.json())

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
            self._request("POST", f"/api/v1/runs/{_q(run_id)}/log-batch", json=body)

    def end_run(self, run_id: str, body: EndRunIn) -> RunInfo:
        response = self._request(
            "POST", f"/api/v1/runs/{_q(run_id)}/end", json=body.model_dump(mode="json")
        )
        return RunInfo.model_validate(response.json())

    def get_run(self, run_id: str) -> RunData:
        return RunData.model_validate(self._request("GET", f"/api/v1/runs/{_q(run_id)}").json())

    def search_runs(self, body: SearchRunsIn) -> RunsPage:
        response = self._request("POST", "/api/v1/runs/search", json=body.model_dump(mode="json"))
        return RunsPage.model_validate(response.json())

    def metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        params = {"max_points": str(max_points)} if max_points is not None else {}
        response = self._request(
            "GET", f"/api/v1/runs/{_q(run_id)}/metrics/{_q(key)}/history", params=params
        )
        return [MetricPoint.model_validate(p) for p in response.json()]

    def put_run_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut:
        response = self._request(
            "PUT",
            f"/api/v1/runs/{_q(run_id)}/artifacts/file",
            params={"path": path},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        return ArtifactOut.model_validate(response.json())

    def missing_dataset_chunks(self, hashes: list[str]) -> list[str]:
        response = self._request("POST", "/api/v1/datasets/chunks/missing", json={"hashes": hashes})
        return ChunkHashes.model_validate(response.json()).hashes

    def put_dataset_chunk(self, digest: str, data: bytes) -> None:
        self._request(
            "PUT",
            f"/api/v1/datasets/chunks/{_q(digest)}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def register_dataset_version(self, body: DatasetVersionIn) -> DatasetVersionOut:
        response = self._request(
            "POST", "/api/v1/datasets/versions", json=body.model_dump(mode="json")
        )
        return DatasetVersionOut.model_validate(response.json())

    def link_run_input(self, run_id: str, body: RunInputIn) -> None:
        self._request(
            "POST", f"/api/v1/runs/{_q(run_id)}/inputs", json=body.model_dump(mode="json")
        )

    def close(self) -> None:
        self._http.close()


def _require(module: str, purpose: str) -> Any:
    """Import an optional dependency, or say which extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise VigilError(
            f"the client needs the {module!r} package {purpose}; "
            "install it with: pip install 'vigil[server]'"
        ) from None


def _q(name: str) -> str:
    """A name as one URL path segment (a name can never add path segments)."""
    return quote(name, safe="")


def _error_from(status: int, response: Any) -> VigilError:
    try:
        body = response.json()
        message, details = str(body.get("message", body)), body.get("details") or {}
    except ValueError:
        message, details = response.text[:500], {}
    error = _ERRORS.get(status, VigilError)(f"server answered {status}: {message}", **details)
    return error


class LocalTransport:
    """Writes to the embedded store, in this process, with no server."""

    def __init__(self, store_url: str, artifacts_url: str) -> None:
        _require("sqlalchemy", "to write to a local store")
        from vigil.store.core import Store

        self.store = Store.open(store_url, artifacts_url)

    def create_model(self, spec: ModelSpec) -> ModelOut:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.create_model(session, spec)[0]

    def get_model(self, name: str) -> ModelOut:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.get_model(session, name)

    def list_models(self) -> list[ModelOut]:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.list_models(session)

    def send(self, kind: str, model: str, body: bytes) -> IngestResult:
        from vigil.ingestion import service

        with self.store.session() as session:
            if kind == "log":
                return service.ingest_log(
                    session,
                    self.store.predictions,
                    model,
                    LogBatch.decode(body),
                    models=self.store.models,
                )
            return service.ingest_labels(
                session, self.store.predictions, model, LabelBatch.decode(body)
            )

    def send_kpi(self, kpi: KpiIn) -> KpiOut:
        from vigil.client.tracking.run import current_user
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.log_kpi(session, kpi, actor=current_user())

    def windows(self, model: str, params: dict[str, str]) -> list[WindowOut]:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.list_windows(session, model, **_typed(params))

    def segments(self, model: str) -> list[str]:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.list_segments(session, model)

    def profile(self, model: str, params: dict[str, str]) -> DatasetProfile:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.merged_profile(session, model, **_typed(params))

    def predictions(self, model: str, params: dict[str, str]) -> pa.Table:
        from vigil.ingestion import service

        typed = _typed(params)
        with self.store.session() as session:
            model_id = service.model_id(session, model)
        return self.store.predictions.joined(model_id, typed.get("start"), typed.get("end"))

    def kpis(self, params: dict[str, str]) -> list[KpiOut]:
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.list_kpis(session, **_typed(params))

    # experiment tracking ----------------------------------------------------------------------

    def _tracking(self) -> TrackingService:
        from vigil.tracking.service import TrackingService

        return TrackingService(self.store)

    def get_experiment(self, name: str) -> ExperimentOut:
        return self._tracking().get_experiment(name)

    def create_experiment(self, name: str) -> ExperimentOut:
        from vigil.client.tracking.run import current_user

        return self._tracking().create_experiment(name, owner=current_user())

    def create_run(self, body: RunIn) -> RunInfo:
        from vigil.client.tracking.run import current_user

        tracking = self._tracking()
        owner = current_user()
        if isinstance(body.experiment, int):
            experiment = tracking.get_experiment(body.experiment)
        else:
            experiment = tracking.ensure_experiment(body.experiment, owner=owner)
        return tracking.create_run(
            experiment.id,
            name=body.name,
            owner=owner,
            parent_id=body.parent_id,
            tags=body.tags,
            start_ms=body.start_ms,
        )

    def log_run_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]],
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> None:
        self._tracking().log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def end_run(self, run_id: str, body: EndRunIn) -> RunInfo:
        return self._tracking().end_run(run_id, body.status, end_ms=body.end_ms)

    def get_run(self, run_id: str) -> RunData:
        return self._tracking().get_run(run_id)

    def search_runs(self, body: SearchRunsIn) -> RunsPage:
        return self._tracking().search_runs(
            body.experiments,
            body.filter,
            order_by=body.order_by,
            max_results=body.max_results,
            page_token=body.page_token,
            actor=body.actor,
        )

    def metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        return self._tracking().metric_history(run_id, key, max_points)

    def put_run_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut:
        return self._tracking().put_artifact(run_id, path, data)

    def _datasets(self) -> DatasetService:
        from vigil.tracking.datasets import DatasetService

        return DatasetService(self.store)

    def missing_dataset_chunks(self, hashes: list[str]) -> list[str]:
        return self._datasets().missing_chunks(hashes)

    def put_dataset_chunk(self, digest: str, data: bytes) -> None:
        self._datasets().put_chunk(digest, data)

    def register_dataset_version(self, body: DatasetVersionIn) -> DatasetVersionOut:
        from vigil.client.tracking.run import current_user

        return self._datasets().register(body, owner=current_user())

    def link_run_input(self, run_id: str, body: RunInputIn) -> None:
        self._datasets().link_run(run_id, body.dataset_version_id, body.context)

    def close(self) -> None:
        self.store.close()


def _typed(params: dict[str, str]) -> dict[str, Any]:
    return {
        key: dt.datetime.fromisoformat(value) if key in ("start", "end") else value
        for key, value in params.items()
    }
