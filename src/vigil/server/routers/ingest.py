from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from vigil.api.specs import IngestResult
from vigil.api.wire import CONTENT_TYPE, LabelBatch, LogBatch
from vigil.config import ServerSettings
from vigil.errors import PayloadTooLargeError
from vigil.ingestion import service
from vigil.server.deps import BodyDep, MetricsDep, SessionDep, SettingsDep, StoreDep, WriteAccess
from vigil.store.arrow_limits import RowLimits, check_stream

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


@router.post("/api/v1/models/{name}/log", openapi_extra=_BINARY_BODY)
async def log(
    _: WriteAccess,
    name: str,
    request: Request,
    body: BodyDep,
    session: SessionDep,
    store: StoreDep,
    metrics: MetricsDep,
    settings: SettingsDep,
) -> IngestResult:
    """Ingest one log batch (window profiles and prediction rows), as `vigil.Client.log` sends.

    The batch id makes this idempotent: a batch sent again is acknowledged and not re-applied.
    """
    started = time.perf_counter()
    # One hop to a worker thread for the blocking work; the answer is then built on the event
    # loop (a sync route would take two more hops: the call, and serialising its result).
    result = await run_in_threadpool(
        lambda: service.ingest_log(
            session, store.predictions, name, _bounded_log(body, settings), models=store.models
        )
    )
    metrics.latency.labels("log").observe(time.perf_counter() - started)
    if not result.duplicate:
        metrics.rows.labels(name).inc(result.n_rows)
        metrics.profiles.labels(name).inc(result.n_profiles)
        metrics.last_arrival.labels(name).set(time.time())
    return result


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
