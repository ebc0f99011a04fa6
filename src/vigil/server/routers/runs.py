"""Experiment tracking over HTTP: experiments, runs, batch logging, search, metric history and
run artifacts. Thin: each route calls `vigil.tracking.service.TrackingService`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic_core import to_json

from vigil.api.tracking import (
    ArtifactOut,
    EndRunIn,
    ExperimentIn,
    ExperimentOut,
    LogBatchIn,
    MetricPoint,
    RunData,
    RunIn,
    RunInfo,
    RunsPage,
    SearchRunsIn,
)
from vigil.server.deps import BodyDep, ReadAccess, StoreDep, WriteAccess
from vigil.server.mlflow.identity import tag_updates
from vigil.server.params import BINARY_ANSWER
from vigil.tracking.service import TrackingService, check_artifact_path

router = APIRouter(tags=["runs"])

RunId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


@router.post("/api/v1/experiments", status_code=status.HTTP_201_CREATED)
def create_experiment(principal: WriteAccess, body: ExperimentIn, store: StoreDep) -> ExperimentOut:
    return TrackingService(store).create_experiment(body.name, owner=principal.actor)


@router.get("/api/v1/experiments")
def list_experiments(_: ReadAccess, store: StoreDep) -> list[ExperimentOut]:
    return TrackingService(store).list_experiments()


@router.get("/api/v1/experiments/{name}")
def get_experiment(
    _: ReadAccess, name: Annotated[str, Path(max_length=500)], store: StoreDep
) -> ExperimentOut:
    return TrackingService(store).get_experiment(name)


@router.post("/api/v1/runs", status_code=status.HTTP_201_CREATED)
def create_run(principal: WriteAccess, body: RunIn, store: StoreDep) -> RunInfo:
    """Start a run in `experiment` (created when missing); its owner is the token's owner."""
    service = TrackingService(store)
    owner = principal.actor
    if isinstance(body.experiment, int):
        experiment = service.get_experiment(body.experiment)
    else:
        experiment = service.ensure_experiment(body.experiment, owner=owner)
    return service.create_run(
        experiment.id,
        name=body.name,
        owner=owner,
        parent_id=body.parent_id,
        tags=tag_updates(owner, body.tags),
        start_ms=body.start_ms,
    )


@router.post("/api/v1/runs/search")
def search_runs(_: ReadAccess, body: SearchRunsIn, store: StoreDep) -> RunsPage:
    return TrackingService(store).search_runs(
        body.experiments,
        body.filter,
        order_by=body.order_by,
        max_results=body.max_results,
        page_token=body.page_token,
        actor=body.actor,
    )


@router.get("/api/v1/runs/{run_id}")
def get_run(_: ReadAccess, run_id: RunId, store: StoreDep) -> RunData:
    return TrackingService(store).get_run(run_id)


@router.post("/api/v1/runs/{run_id}/log-batch", status_code=status.HTTP_204_NO_CONTENT)
def log_batch(principal: WriteAccess, run_id: RunId, body: LogBatchIn, store: StoreDep) -> Response:
    """Metric points, params (immutable: 409 on another value) and tags, in one transaction."""
    TrackingService(store).log_batch(
        run_id,
        metrics=[(m.key, m.value, m.step, m.timestamp_ms) for m in body.metrics],
        params=body.params,
        tags=tag_updates(principal.actor, body.tags),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/v1/runs/{run_id}/end")
def end_run(_: WriteAccess, run_id: RunId, body: EndRunIn, store: StoreDep) -> RunInfo:
    return TrackingService(store).end_run(run_id, body.status, end_ms=body.end_ms)


@router.get("/api/v1/runs/{run_id}/metrics/{key}/history", response_model=list[MetricPoint])
def metric_history(
    _: ReadAccess,
    run_id: RunId,
    key: Annotated[str, Path(max_length=250)],
    store: StoreDep,
    max_points: Annotated[int | None, Query(ge=2, le=1_000_000)] = None,
) -> Response:
    """Every point of a metric, or at most about `max_points` of them for a chart (the lowest
    and highest value of each bucket, so spikes survive). Serialised from the rows directly,
    the same JSON as `list[MetricPoint]` (NaN and infinities as null): a million points in
    about 1 s instead of 4."""
    rows = TrackingService(store).metric_history_rows(run_id, key, max_points)
    body = to_json(
        [{"key": key, "value": v, "step": s, "timestamp_ms": t} for v, s, t in rows],
        inf_nan_mode="null",
    )
    return Response(body, media_type="application/json")


ArtifactPath = Annotated[str, Query(min_length=1, max_length=1000)]


@router.put("/api/v1/runs/{run_id}/artifacts/file", status_code=status.HTTP_201_CREATED)
def put_artifact(
    _: WriteAccess, run_id: RunId, path: ArtifactPath, body: BodyDep, store: StoreDep
) -> ArtifactOut:
    """Store the request body as the run's artifact `path` (the storage key is chosen here)."""
    return TrackingService(store).put_artifact(run_id, check_artifact_path(path), body)


@router.get("/api/v1/runs/{run_id}/artifacts")
def list_artifacts(_: ReadAccess, run_id: RunId, store: StoreDep) -> list[ArtifactOut]:
    return TrackingService(store).list_artifacts(run_id)


@router.get(
    "/api/v1/runs/{run_id}/artifacts/file", response_class=Response, responses=BINARY_ANSWER
)
def get_artifact(_: ReadAccess, run_id: RunId, path: ArtifactPath, store: StoreDep) -> Response:
    data = TrackingService(store).get_artifact(run_id, check_artifact_path(path))
    return Response(content=data, media_type="application/octet-stream")
