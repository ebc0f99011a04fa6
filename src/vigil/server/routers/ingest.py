from __future__ import annotations

import asyncio
import contextvars
import functools
import time

from fastapi import APIRouter, Request, Response

from vigil.api.specs import IngestResult
from vigil.api.wire import CONTENT_TYPE, LabelBatch, LogBatch
from vigil.config import ServerSettings
from vigil.errors import PayloadTooLargeError
from vigil.ingestion import service
from vigil.server.deps import (
    BodyDep,
    MetricsDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    WriteAccess,
    read_body,
)
from vigil.server.metrics import Metrics
from vigil.store.arrow_limits import RowLimits, check_stream
from vigil.store.core import Store

router = APIRouter(tags=["ingestion"])

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _row_limits(settings: ServerSettings) -> RowLimits:
    return RowLimits(
        settings.max_batch_rows, settings.max_batch_columns, settings.max_request_bytes
    )


def _bounded_log(body: bytes, settings: ServerSettings) -> LogBatch:
    """The log batch in `body`, refused (413) past the upload limits before anything is decoded
    beyond its envelope: profile count, then the rows' counts and decoded size (headers only)."""
    batch = LogBatch.decode(body)
    if len(batch.profiles) > settings.max_batch_profiles:
        raise PayloadTooLargeError(
            f"the batch has {len(batch.profiles)} profiles; an upload takes at most "
            f"{settings.max_batch_profiles} (VIGIL_MAX_BATCH_PROFILES): split it",
            profiles=len(batch.profiles),
            limit=settings.max_batch_profiles,
        )
    if batch.rows is not None:
        check_stream(batch.rows, _row_limits(settings))
    return batch


def _ingest(store: Store, name: str, body: bytes, settings: ServerSettings) -> IngestResult:
    """The blocking part of a log call, in one worker thread: decode the envelope within the
    limits, apply the batch in a session of its own, close the session."""
    batch = _bounded_log(body, settings)
    with store.session() as session:
        return service.ingest_log(session, store.predictions, name, batch, models=store.models)


@router.post("/api/v1/models/{name}/log", openapi_extra=_BINARY_BODY, response_model=IngestResult)
async def log(_: WriteAccess, name: str, request: Request) -> Response:
    """Ingest one log batch (window profiles and prediction rows), as `vigil.Client.log` sends.

    The batch id makes this idempotent: a batch sent again is acknowledged and not re-applied.
    """
    # The busiest route: it takes the app's settings, store and metrics from the app's state (the
    # settings in force, which `get_settings` also gives) instead of one dependency each, makes
    # one hop to a worker thread for all its blocking work (the session is opened and closed
    # there too), and answers with the result's JSON directly (the same bytes FastAPI's
    # serialisation of `IngestResult` gives, without validating it again).
    state = request.app.state
    settings: ServerSettings = state.settings.server
    store: Store = state.store
    metrics: Metrics = state.metrics
    body = await read_body(request, settings)
    started = time.perf_counter()
    # A plain executor hop costs the event loop less than anyio's; the request's context goes
    # along (its deadline stops late SQL), as with anyio.
    work = functools.partial(contextvars.copy_context().run, _ingest, store, name, body, settings)
    result = await asyncio.get_running_loop().run_in_executor(state.ingest_executor, work)
    metrics.latency.labels("log").observe(time.perf_counter() - started)
    if not result.duplicate:
        metrics.rows.labels(name).inc(result.n_rows)
        metrics.profiles.labels(name).inc(result.n_profiles)
        metrics.last_arrival.labels(name).set(time.time())
    return Response(result.model_dump_json(), media_type="application/json")


@router.post("/api/v1/models/{name}/labels", openapi_extra=_BINARY_BODY)
def labels(
    _: WriteAccess,
    name: str,
    body: BodyDep,
    session: SessionDep,
    store: StoreDep,
    metrics: MetricsDep,
    settings: SettingsDep,
) -> IngestResult:
    """Ingest ground-truth labels (ids and labels), joined to the predictions by id."""
    started = time.perf_counter()
    batch = LabelBatch.decode(body)
    check_stream(batch.rows, _row_limits(settings))
    result = service.ingest_labels(session, store.predictions, name, batch)
    metrics.latency.labels("labels").observe(time.perf_counter() - started)
    if not result.duplicate:
        metrics.labels.labels(name).inc(result.n_rows)
    return result
