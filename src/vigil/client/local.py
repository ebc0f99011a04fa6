"""The embedded store as the client's transport: the same calls as `HttpTransport`, made on the
services in this process, with no server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

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
from vigil.api.wire import LabelBatch, LogBatch
from vigil.profile import DatasetProfile

if TYPE_CHECKING:
    from vigil.tracking.datasets import DatasetService
    from vigil.tracking.service import TrackingService


def _require(module: str, purpose: str) -> Any:
    """Import an optional dependency, or say which extra to install."""
    import importlib

    from vigil.errors import VigilError

    try:
        return importlib.import_module(module)
    except ImportError:
        raise VigilError(
            f"the client needs the {module!r} package {purpose}; "
            "install it with: pip install 'vigil[server]'"
        ) from None


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

    def send(
        self, kind: str, model: str, body: bytes, *, attempts: int | None = None
    ) -> IngestResult:
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

    def send_kpi(self, kpi: KpiIn, *, attempts: int | None = None) -> KpiOut:
        from vigil.actors import current_user
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
        from vigil.actors import current_user

        return self._tracking().create_experiment(name, owner=current_user())

    def create_run(self, body: RunIn) -> RunInfo:
        from vigil.actors import current_user

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
        from vigil.actors import current_user

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
