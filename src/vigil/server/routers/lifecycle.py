"""Following live runs and a model's retraining cadence: `GET /api/v1/runs/{id}/metrics/live`
and `GET /api/v1/models/{name}/retraining`. Thin: each route calls `vigil.lifecycle`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from vigil.api.tracking import DatasetVersionOut
from vigil.ingestion import service
from vigil.lifecycle.live import MAX_POINTS, LivePage, live_metrics
from vigil.ranges import EPOCH_MS_MAX, EPOCH_MS_MIN, INT64_MAX, INT64_MIN
from vigil.server.deps import ReadAccess, SessionDep, StoreDep
from vigil.server.params import CountQuery

router = APIRouter(tags=["lifecycle"])

RunId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


@router.get("/api/v1/runs/{run_id}/metrics/live")
def get_live_metrics(
    _: ReadAccess,
    session: SessionDep,
    run_id: RunId,
    cursor: Annotated[
        str | None, Query(max_length=100_000, description="The previous answer's `cursor`.")
    ] = None,
    since_step: Annotated[
        int | None, Query(ge=INT64_MIN, le=INT64_MAX, description="Points with a higher step.")
    ] = None,
    since_time: Annotated[
        int | None,
        Query(
            ge=EPOCH_MS_MIN,
            le=EPOCH_MS_MAX,
            description="Points logged after this time (ms since the epoch).",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 10_000,
) -> LivePage:
    """New metric and system-metric points of a run, and its status; poll with the returned
    `cursor` to follow it while it runs."""
    return service.read_only(
        session,
        lambda s: live_metrics(
            s, run_id, cursor=cursor, since_step=since_step, since_time=since_time, limit=limit
        ),
    )


class RunInputOut(BaseModel):
    version: DatasetVersionOut
    context: str


@router.get("/api/v1/runs/{run_id}/inputs")
def list_run_inputs(_: ReadAccess, store: StoreDep, run_id: RunId) -> list[RunInputOut]:
    """The dataset versions a run used (lineage), each with its context (training, ...)."""
    from vigil.tracking.datasets import DatasetService
    from vigil.tracking.service import TrackingService

    TrackingService(store).get_run_info(run_id)  # 404 naming the run when it does not exist
    return [RunInputOut(version=v, context=c) for v, c in DatasetService(store).inputs_of(run_id)]


@router.get(
    "/api/v1/datasets/versions/{ref}/content",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def dataset_content(
    _: ReadAccess, store: StoreDep, ref: Annotated[str, Path(max_length=300)]
) -> Response:
    """A dataset version's full content (`NAME@3`), rebuilt from its chunks; its SHA-256 is in
    `X-Vigil-Sha256` (what `vigil runs reproduce` fetches from a server)."""
    from vigil.tracking.datasets import DatasetService

    datasets = DatasetService(store)
    version = datasets.get(ref)
    return Response(
        datasets.read_bytes(version),
        media_type="application/octet-stream",
        headers={"X-Vigil-Sha256": version.digest},
    )


@router.get(
    "/api/v1/datasets/versions/{ref}/profile",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def dataset_profile(
    _: ReadAccess, store: StoreDep, ref: Annotated[str, Path(max_length=300)]
) -> Response:
    """A dataset version's stored profile (.vgp bytes), made when the version was added (what
    `vigil datasets diff --url` compares); 404 when it has none (its content is not a table)."""
    from vigil.errors import NotFoundError
    from vigil.tracking.datasets import DatasetService

    datasets = DatasetService(store)
    version = datasets.get(ref)
    profile = datasets.profile(version)
    if profile is None:
        raise NotFoundError(f"dataset version {version.ref!r} has no profile (not a table)")
    return Response(profile.to_bytes(), media_type="application/octet-stream")


@router.get("/api/v1/models/{name}/retraining")
def retraining(
    _: ReadAccess,
    store: StoreDep,
    name: Annotated[str, Path(max_length=200)],
    window: Annotated[str, Query(max_length=100)] = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    persistence: Annotated[int, Query(ge=1, le=100)] = 2,
    min_rows: CountQuery = 1,
    history: bool = False,
) -> dict[str, Any]:
    """How often the model's production windows drifted from the serving version's training
    profile, how many days after training drift began (per version, and the median), and the
    advice "retrain every M days" (M = max(1, floor(0.8 * median))). `history=true` adds each
    window's verdict."""
    from vigil.lifecycle.cadence import retraining_cadence

    def utc(t: dt.datetime | None) -> dt.datetime | None:
        return t if t is None or t.tzinfo is not None else t.replace(tzinfo=dt.UTC)

    cadence = retraining_cadence(
        store,
        name,
        window=window,
        start=utc(start),
        end=utc(end),
        persistence=persistence,
        min_rows=min_rows,
    )
    body = cadence.to_dict()
    if not history:
        body["history"] = []
    return body
