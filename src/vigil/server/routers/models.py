from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from vigil.api.specs import DailyVolume, ModelOut, ModelSpec, WindowOut
from vigil.api.wire import ipc_chunks
from vigil.caps import MAX_PAGE
from vigil.ingestion import queries, service
from vigil.server.deps import ReadAccess, SessionDep, StoreDep, WriteAccess
from vigil.server.pages import Limit, time_page

router = APIRouter(tags=["models"])

Start = Annotated[dt.datetime | None, Query(description="Inclusive start (ISO 8601, UTC).")]
End = Annotated[dt.datetime | None, Query(description="Exclusive end (ISO 8601, UTC).")]
Version = Annotated[str | None, Query(max_length=200, description="One model version only.")]
Segment = Annotated[
    str,
    Query(
        max_length=400,
        description="One segment's windows, `<column>=<value>` (default: the whole traffic).",
    ),
]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


@router.post("/api/v1/models", status_code=status.HTTP_201_CREATED)
def create_model(
    _: WriteAccess, spec: ModelSpec, session: SessionDep, response: Response
) -> ModelOut:
    """Create a monitored model; creating the same definition again returns it with 200."""
    model, created = service.create_model(session, spec)
    if not created:
        response.status_code = status.HTTP_200_OK
    return model


@router.get("/api/v1/models")
def list_models(_: ReadAccess, session: SessionDep) -> list[ModelOut]:
    return service.read_only(session, service.list_models)


@router.get("/api/v1/models/{name}")
def get_model(_: ReadAccess, name: str, session: SessionDep) -> ModelOut:
    return service.read_only(session, lambda s: service.get_model(s, name))


@router.get("/api/v1/models/{name}/windows")
def list_windows(
    _: ReadAccess,
    name: str,
    session: SessionDep,
    response: Response,
    version: Version = None,
    start: Start = None,
    end: End = None,
    segment: Segment = "",
    limit: Limit = MAX_PAGE,
) -> list[WindowOut]:
    """The model's windows: row counts and first/last arrival, oldest first.

    At most `limit`; when more follow, the `X-Vigil-Next-Start` header holds the `start` of the
    next page (a page never splits the windows of one start across two pages).
    """
    windows = service.read_only(
        session,
        lambda s: service.list_windows(
            s,
            name,
            version=version,
            start=_utc(start),
            end=_utc(end),
            segment=segment,
            limit=limit + 1,
        ),
    )
    return time_page(windows, limit, lambda w: w.start, response)


@router.get("/api/v1/models/{name}/segments")
def list_segments(_: ReadAccess, name: str, session: SessionDep) -> list[str]:
    """The segments the model has windows for, as `<column>=<value>` keys."""
    return service.read_only(session, lambda s: service.list_segments(s, name))


@router.get(
    "/api/v1/models/{name}/profile",
    responses={200: {"content": {"application/octet-stream": {}, "application/json": {}}}},
)
def merged_profile(
    _: ReadAccess,
    name: str,
    session: SessionDep,
    version: Version = None,
    start: Start = None,
    end: End = None,
    segment: Segment = "",
    format: Literal["binary", "json"] = "binary",
) -> Response:
    """The merge of the model's windows in [start, end): binary (`DatasetProfile.from_bytes`)
    or JSON."""
    profile = service.read_only(
        session,
        lambda s: service.merged_profile(
            s, name, version=version, start=_utc(start), end=_utc(end), segment=segment
        ),
    )
    if format == "json":
        import json

        return Response(json.dumps(profile.to_dict(), default=str), media_type="application/json")
    return Response(profile.to_bytes(), media_type="application/octet-stream")


@router.get("/api/v1/models/{name}/volume")
def daily_volume(
    _: ReadAccess,
    name: str,
    store: StoreDep,
    start: Start = None,
    end: End = None,
) -> list[DailyVolume]:
    """Prediction rows per day, and how many of them have a label."""
    return queries.prediction_volume(store, name, _utc(start), _utc(end))


@router.get(
    "/api/v1/models/{name}/predictions",
    responses={200: {"content": {"application/vnd.apache.arrow.stream": {}}}},
)
def predictions(
    _: ReadAccess,
    name: str,
    session: SessionDep,
    store: StoreDep,
    start: Start = None,
    end: End = None,
) -> Response:
    """Prediction rows in [start, end) with their latest label, as an Arrow IPC stream, sent a
    batch at a time (an export of any size never sits whole in the server's memory)."""
    model_id = service.read_only(session, lambda s: service.model_id(s, name))

    def chunks() -> Iterator[bytes]:
        with store.predictions.joined_batches(model_id, _utc(start), _utc(end)) as reader:
            yield from ipc_chunks(reader)

    return StreamingResponse(chunks(), media_type="application/vnd.apache.arrow.stream")
