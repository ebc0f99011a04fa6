from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

from vigil.api.specs import IngestResult
from vigil.api.wire import CONTENT_TYPE, LabelBatch, LogBatch
from vigil.config import ServerSettings
from vigil.errors import PayloadTooLargeError
from vigil.ingestion import service
from vigil.ingestion.group_commit import GroupCommit, Queued
from vigil.server.deps import WriteAccess, read_body
from vigil.server.metrics import Metrics
from vigil.store.arrow_limits import RowLimits, check_stream
from vigil.store.core import Store

T = TypeVar("T")

logger = logging.getLogger("vigil.server")

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


def _ingest(
    store: Store,
    name: str,
    body: bytes | LogBatch,
    settings: ServerSettings,
    group: GroupCommit | None,
) -> IngestResult:
    """The blocking part of a log call, in one worker thread: decode the envelope within the
    limits (unless done), check the batch and write it in a session of its own (with the log
    calls waiting at the same time, on SQLite: `group`), close the session."""
    batch = body if isinstance(body, LogBatch) else _bounded_log(body, settings)
    with store.session() as session:
        checked = service.check_log(session, name, batch, models=store.models)
        if group is None:
            return service.apply_log(session, store.predictions, checked)
        return group.apply(session, checked)


INLINE_BYTES = 32 * 1024
INLINE_PROFILES = 4
"""A log body of at most INLINE_BYTES that holds at most INLINE_PROFILES profiles and no rows,
for a model this process has seen, is checked on the event loop and handed to the store's
writer thread (`GroupCommit.submit`), with no hop to a worker thread. A replica's profile of a
few dozen columns decodes and passes its checks in well under a millisecond, less than the hop
and the contention of the worker threads cost. The writer commits what it was handed in groups:
on PostgreSQL too, where uploads into one window would otherwise each hold its row lock until
their own commit is flushed. The bounds keep the worst such body from holding up the loop for
long: a profile may inflate to 1 MiB whatever its size, and none with more columns than its
model profiles is decoded (`check_profile`). Anything else goes to a worker thread."""


async def _log_small(
    request: Request, store: Store, name: str, body: bytes, group: GroupCommit
) -> IngestResult:
    """A log call of at most INLINE_BYTES: its envelope decoded here, its checks here when it
    holds a few profiles only and the model is known (see INLINE_PROFILES), else in a worker."""
    settings: ServerSettings = request.app.state.settings.server
    batch = _bounded_log(body, settings)
    model = store.models.peek(name)
    if batch.rows is not None or len(batch.profiles) > INLINE_PROFILES or model is None:
        return await _in_worker(request, _ingest, store, name, batch, settings, _waiting(group))
    checked = service.check_log_of(model[0], model[1], batch)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Queued] = loop.create_future()
    group.submit(checked, _written, answer)
    queued = await answer
    if queued.error is not None:
        raise queued.error
    assert queued.result is not None
    return queued.result


def _waiting(group: GroupCommit | None) -> GroupCommit | None:
    """The group a worker thread's batch waits to join: on SQLite only (see GroupCommit)."""
    return group if group is not None and group.one_writer else None


def _written(batches: list[Queued]) -> None:
    """The `notify` of the small uploads handed over (in the writer's thread): each event loop
    among theirs is woken once for the group (`_settle` answers each of its uploads there)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Queued]] = {}
    for queued in batches:
        answer = queued.waiter
        assert isinstance(answer, asyncio.Future)
        by_loop.setdefault(answer.get_loop(), []).append(queued)
    for loop, mine in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, mine)
        except RuntimeError:  # its loop is closed: no one waits for these answers
            logger.warning("%d written log batch(es) could not be answered", len(mine))


def _settle(batches: list[Queued]) -> None:
    for queued in batches:
        answer = queued.waiter
        assert isinstance(answer, asyncio.Future)
        if not answer.done():  # not cancelled (the client went away, the time limit passed)
            answer.set_result(queued)


async def _in_worker(request: Request, blocking: Callable[..., T], *args: Any) -> T:
    """Run `blocking(*args)` in one of the app's ingestion threads with the request's context (its
    deadline stops late SQL). A plain executor hop costs the event loop less than anyio's."""
    work = functools.partial(contextvars.copy_context().run, blocking, *args)
    executor = request.app.state.ingest_executor
    return await asyncio.get_running_loop().run_in_executor(executor, work)


def _json(result: IngestResult) -> Response:
    """The result's JSON (the same bytes FastAPI's serialisation of `IngestResult` gives, without
    validating it again)."""
    return Response(result.model_dump_json(), media_type="application/json")


async def log_call(request: Request, name: str) -> Response:
    """The log route's work once the caller may write: it takes the app's settings, store and
    metrics from the app's state (the settings in force, which `get_settings` also gives) instead
    of one dependency each, makes one hop to a worker thread for all its blocking work (the
    session is opened and closed there too; a small upload needs none: `_log_small`),
    and answers with the result's JSON directly. Also
    called by `vigil.server.ingest_path`, which routes the busiest requests here directly."""
    state = request.app.state
    settings: ServerSettings = state.settings.server
    store: Store = state.store
    metrics: Metrics = state.metrics
    body = await read_body(request, settings)
    started = time.perf_counter()
    group = getattr(state, "ingest_group", None)
    if group is not None and len(body) <= INLINE_BYTES:
        result = await _log_small(request, store, name, body, group)
    else:
        waiting = _waiting(group)
        result = await _in_worker(request, _ingest, store, name, body, settings, waiting)
    children = metrics.for_log(name)
    children.latency.observe(time.perf_counter() - started)
    if not result.duplicate:
        children.rows.inc(result.n_rows)
        children.profiles.inc(result.n_profiles)
        children.last_arrival.set(time.time())
    return _json(result)


def _ingest_labels(store: Store, name: str, body: bytes, settings: ServerSettings) -> IngestResult:
    """The blocking part of a labels call, in one worker thread: decode and bound the rows, apply
    them in a session of its own, close the session."""
    batch = LabelBatch.decode(body)
    check_stream(batch.rows, _row_limits(settings))
    with store.session() as session:
        return service.ingest_labels(session, store.predictions, name, batch)


async def labels_call(request: Request, name: str) -> Response:
    """The labels route's work once the caller may write (as `log_call`: state, one hop)."""
    state = request.app.state
    settings: ServerSettings = state.settings.server
    metrics: Metrics = state.metrics
    body = await read_body(request, settings)
    started = time.perf_counter()
    result = await _in_worker(request, _ingest_labels, state.store, name, body, settings)
    metrics.latency.labels("labels").observe(time.perf_counter() - started)
    if not result.duplicate:
        metrics.labels.labels(name).inc(result.n_rows)
    return _json(result)


@router.post("/api/v1/models/{name}/log", openapi_extra=_BINARY_BODY, response_model=IngestResult)
async def log(_: WriteAccess, name: str, request: Request) -> Response:
    """Ingest one log batch (window profiles and prediction rows), as `vigil.Client.log` sends.

    The batch id makes this idempotent: a batch sent again is acknowledged and not re-applied.
    """
    return await log_call(request, name)


@router.post(
    "/api/v1/models/{name}/labels", openapi_extra=_BINARY_BODY, response_model=IngestResult
)
async def labels(_: WriteAccess, name: str, request: Request) -> Response:
    """Ingest ground-truth labels (ids and labels), joined to the predictions by id."""
    return await labels_call(request, name)


FAST_ROUTES = {log: log_call, labels: labels_call}
"""Endpoints that `vigil.server.ingest_path` may call directly, and the work each does once its
dependencies passed."""
