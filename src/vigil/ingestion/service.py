"""The store's operations: what the server's routers and the client's local mode both call.

Every function takes a Session and commits its own unit of work, so a request that fails
validation changes nothing that was stored before it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa
from sqlalchemy.orm import Session

from vigil.api.specs import IngestResult, KpiIn, KpiOut, ModelOut, ModelSpec, WindowOut
from vigil.api.wire import LabelBatch, LogBatch, new_batch_id
from vigil.errors import ConflictError
from vigil.ingestion.checks import CheckedLog, check_profile, check_rows, check_segment
from vigil.ingestion.compactor import fold_if_free
from vigil.profile import DatasetProfile
from vigil.schema import VERSION_COLUMN
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.predictions import Kind, PredictionStore, batch_of
from vigil.store.repositories import (
    BatchRepository,
    KpiRepository,
    ModelCache,
    ModelRepository,
    WindowRepository,
    spec_of,
    utcnow,
)
from vigil.store.stored_profiles import load_stored, merge_stored, tally_of
from vigil.store.window_kinds import encode as encode_kinds
from vigil.store.window_kinds import kinds_cache, kinds_of

T = TypeVar("T")

logger = logging.getLogger("vigil.ingestion")

FOLD_EVERY = 256
"""Every FOLD_EVERY-th upload to a window folds its parts after its commit (a server's compactor
usually has: then there is little left to fold)."""


def model_out(model: MonitoredModel) -> ModelOut:
    return ModelOut(**spec_of(model).model_dump(), created_at=model.created_at)


def window_out(window: ProfileWindow) -> WindowOut:
    return WindowOut(
        version=window.version,
        segment=window.segment,
        start=window.start,
        end=window.end,
        n_rows=window.n_rows,
        n_uploads=window.n_uploads,
        first_arrival=window.first_arrival,
        last_arrival=window.last_arrival,
    )


def create_model(session: Session, spec: ModelSpec) -> tuple[ModelOut, bool]:
    model, created = ModelRepository(session).create(spec)
    out = model_out(model)
    session.commit()
    return out, created


def get_model(session: Session, name: str) -> ModelOut:
    return model_out(ModelRepository(session).get(name))


def list_models(session: Session) -> list[ModelOut]:
    return [model_out(m) for m in ModelRepository(session).list()]


def _by_window(item: tuple[int, tuple[DatasetProfile, bytes, str]]) -> tuple[dt.datetime, str]:
    window = item[1][0].window
    assert window is not None
    return window.start, item[1][2]


def _pieces(session: Session, window_id: int) -> tuple[bytes, ...]:
    """The window's blob and pending parts, read together."""
    blobs = load_stored(session, [window_id]).get(window_id)
    return (blobs.blob, *blobs.parts) if blobs is not None else ()


def ingest_log(
    session: Session,
    predictions: PredictionStore,
    model_name: str,
    batch: LogBatch,
    *,
    now: dt.datetime | None = None,
    models: ModelCache | None = None,
) -> IngestResult:
    """Apply one log batch: append its profiles to their windows and its rows to the files.

    Everything is checked before anything is written. A batch id seen before is not applied again.
    `models` (a Store's cache) saves looking the model up on every call.
    """
    checked = check_log(session, model_name, batch, models=models)
    return apply_log(session, predictions, checked, now=now)


def check_log(
    session: Session, model_name: str, batch: LogBatch, *, models: ModelCache | None = None
) -> CheckedLog:
    """Every check of a log batch, before anything is written (reads the model at most)."""
    model_id, spec = (models or ModelCache()).get(session, model_name)
    return check_log_of(model_id, spec, batch)


def check_log_of(model_id: int, spec: ModelSpec, batch: LogBatch) -> CheckedLog:
    """Every check of a log batch for the model `model_id` of `spec`, reading nothing."""
    profiles = [check_profile(spec, blob, i) for i, blob in enumerate(batch.profiles)]
    segments = [check_segment(spec, batch.segment_of(i), i) for i in range(len(profiles))]
    rows = check_rows(spec, batch.rows, labels=False) if batch.rows is not None else None
    if rows is not None and VERSION_COLUMN not in rows.column_names:
        rows = rows.append_column(
            VERSION_COLUMN, pa.repeat(pa.scalar(batch.version, pa.string()), rows.num_rows)
        )
    whole = [p for p, key in zip(profiles, segments, strict=True) if not key]
    n_rows = rows.num_rows if rows is not None else sum(p.n_rows for p in whole)
    windows = [p.window.start for p in whole if p.window is not None]
    result = IngestResult(
        batch_id=batch.batch_id,
        duplicate=False,
        n_rows=n_rows,
        n_profiles=len(profiles),
        windows=windows,
    )
    return CheckedLog(model_id, batch, tuple(profiles), tuple(segments), rows, result)


def apply_log(
    session: Session,
    predictions: PredictionStore,
    checked: CheckedLog,
    *,
    now: dt.datetime | None = None,
) -> IngestResult:
    """Write a checked log batch in one transaction (nothing, when its batch id was claimed
    before), then fold the windows it made due. (A server on SQLite commits concurrent batches
    together: `vigil.ingestion.group_commit`.)"""
    result, to_fold = _write_log(session, predictions, checked, now)
    for window_id in to_fold:
        fold_after_commit(session, window_id)
    return result


def _write_log(
    session: Session,
    predictions: PredictionStore,
    checked: CheckedLog,
    now: dt.datetime | None,
) -> tuple[IngestResult, list[int]]:
    """The transaction of `apply_log`: its answer, and the windows to fold after it."""
    result, to_fold = write_checked(session, predictions, checked, now or utcnow())
    if result.duplicate:
        session.rollback()
    else:
        session.commit()
    return result, to_fold


def write_checked(
    session: Session,
    predictions: PredictionStore,
    checked: CheckedLog,
    arrival: dt.datetime,
) -> tuple[IngestResult, list[int]]:
    """A checked log batch's writes in the session's transaction, not committed: its answer
    (`duplicate`, having written nothing, when its batch id was claimed before) and the windows
    to fold once it is committed."""
    batch, model_id, result = checked.batch, checked.model_id, checked.result
    if not BatchRepository(session).claim(batch.batch_id, model_id, "log", result.n_rows):
        return result.model_copy(update={"duplicate": True}), []
    repository = WindowRepository(session)
    kinds = kinds_cache(session)
    to_fold: list[int] = []
    # Touch windows in one order (by start, then segment), so two batches never wait on each
    # other's window rows.
    ordered = sorted(
        enumerate(zip(checked.profiles, batch.profiles, checked.segments, strict=True)),
        key=_by_window,
    )
    for index, (profile, blob, segment) in ordered:
        assert profile.window is not None
        new = kinds_of(profile)
        window_id, n_uploads, stored = repository.append(
            model_id,
            batch.version,
            profile.window.start,
            profile.window.end,
            profile.n_rows,
            blob,
            arrival,
            segment,
            kinds=encode_kinds(new),
        )
        if n_uploads % FOLD_EVERY == 0:
            to_fold.append(window_id)
        if n_uploads > 1:
            # Under the window's row lock: a column that cannot merge with the window's is
            # refused (409) and the whole batch rolled back, as when uploads were merged on
            # arrival; kinds it adds are stored with it.
            pieces = functools.partial(_pieces, session, window_id)
            updated = kinds.check(stored, new, pieces, what=f"profile #{index}")
            if updated is not None:
                repository.set_kinds(window_id, updated)
    session.flush()
    if checked.rows is not None:
        # Files are named by batch id: if the commit fails, a retry rewrites them.
        predictions.append("predictions", model_id, batch.batch_id, checked.rows)
    return result, to_fold


def fold_after_commit(session: Session, window_id: int) -> None:
    """Bound a window's parts where no compactor runs (see `vigil.ingestion.compactor`), under
    the window's fold lease (left to another process that holds it); the upload is committed,
    so a failure here is logged, not raised."""
    try:
        fold_if_free(session, window_id)
    except Exception:
        session.rollback()
        logger.exception("folding the parts of window id %s after an upload failed", window_id)


def ingest_labels(
    session: Session, predictions: PredictionStore, model_name: str, batch: LabelBatch
) -> IngestResult:
    model = ModelRepository(session).get(model_name)
    rows = check_rows(spec_of(model), batch.rows, labels=True)
    result = IngestResult(
        batch_id=batch.batch_id, duplicate=False, n_rows=rows.num_rows, n_profiles=0, windows=[]
    )
    if not BatchRepository(session).claim(batch.batch_id, model.id, "labels", rows.num_rows):
        session.rollback()
        return result.model_copy(update={"duplicate": True})
    session.flush()
    predictions.append("labels", model.id, batch.batch_id, rows)
    session.commit()
    return result


def log_kpi(session: Session, kpi: KpiIn, *, actor: str = "") -> KpiOut:
    """Record one KPI value as logged by `actor` (a batch id already seen: nothing new)."""
    model_id = ModelRepository(session).get(kpi.model).id if kpi.model else None
    timestamp = kpi.timestamp or utcnow()
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.UTC)
    out = KpiOut(
        name=kpi.name,
        value=kpi.value,
        timestamp=timestamp,
        model=kpi.model,
        version=kpi.version,
        created_by=actor,
    )
    if kpi.batch_id and not BatchRepository(session).claim(kpi.batch_id, model_id, "kpi", 1):
        session.rollback()
        return out
    KpiRepository(session).add(kpi.name, kpi.value, timestamp, model_id, kpi.version, actor)
    session.commit()
    return out


def list_kpis(
    session: Session,
    *,
    name: str | None = None,
    model: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int | None = None,
) -> list[KpiOut]:
    """KPI values in time order; the first `limit`."""
    model_id = ModelRepository(session).get(model).id if model else None
    rows = KpiRepository(session).list(
        name=name, model_id=model_id, start=start, end=end, limit=limit
    )
    return [
        KpiOut(
            name=k.name,
            value=k.value,
            timestamp=k.timestamp,
            model=m,
            version=k.version,
            created_by=k.created_by,
        )
        for k, m in rows
    ]


def list_windows(
    session: Session,
    model_name: str,
    *,
    version: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    segment: str = "",
    limit: int | None = None,
) -> list[WindowOut]:
    """The model's windows (metadata, no profiles), oldest first; the first `limit`."""
    model = ModelRepository(session).get(model_name)
    windows = WindowRepository(session).list(
        model.id,
        version=version,
        start=start,
        end=end,
        segment=segment,
        limit=limit,
        profiles=False,
    )
    return [window_out(w) for w in windows]


def list_segments(session: Session, model_name: str) -> list[str]:
    """The segment keys (`"<column>=<value>"`) the model has windows for."""
    return list(WindowRepository(session).segments(ModelRepository(session).get(model_name).id))


def merged_profile(
    session: Session,
    model_name: str,
    *,
    version: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    segment: str = "",
) -> DatasetProfile:
    """The merge of every window of the model (one version, or all; one segment, or the whole
    traffic) in [start, end)."""
    model = ModelRepository(session).get(model_name)
    windows = WindowRepository(session).list(
        model.id, version=version, start=start, end=end, segment=segment
    )
    return merge_stored(windows, tally_of(session))


def model_id(session: Session, model_name: str) -> int:
    return ModelRepository(session).get(model_name).id


def read_only(session: Session, action: Callable[[Session], T]) -> T:
    """Run a read and end the transaction (on SQLite a write session's holds the write lock, a
    read session's a snapshot)."""
    try:
        return action(session)
    finally:
        session.rollback()


def compact_day(
    session: Session,
    predictions: PredictionStore,
    model_name: str,
    day: dt.date,
    kind: Kind = "predictions",
) -> int:
    """Rewrite one day's files of a model (one per upload) as one file; returns how many were
    merged (0 when there was nothing to do).

    The new file becomes visible, and the old ones invisible, in one transaction: its batch is
    recorded and theirs marked superseded. Old files are deleted later by `collect_garbage`, so a
    reader that listed them just before still finds them.
    """
    model_id = ModelRepository(session).get(model_name).id
    session.rollback()  # end the read: the file listing below checks batches in its own session
    live = predictions.files(kind, model_id)
    on_day = [key for key in live if key.split("/")[2] == day.isoformat()]
    if len(on_day) < 2:
        return 0
    # One upload whose rows span days wrote one file per day under one batch id, and superseding a
    # batch hides all its files: those of other days are rewritten here too (as files of their
    # own days under the new batch id), so that no row disappears.
    sources = sorted({batch_of(key) for key in on_day})
    table = predictions.read_files([key for key in live if batch_of(key) in set(sources)])
    batch_id = "c" + new_batch_id()
    written = predictions.append(kind, model_id, batch_id, table)
    try:
        batches = BatchRepository(session)
        batches.claim(batch_id, model_id, "compaction", table.num_rows)
        if batches.supersede(sources, batch_id) != len(sources):
            raise ConflictError(
                f"day {day.isoformat()} of model {model_name!r} ({kind}) was compacted by "
                "another process at the same time; nothing was changed by this one"
            )
        session.commit()
    except BaseException:
        session.rollback()
        for key in written:
            predictions.artifacts.delete(key)
        raise
    return len(on_day)


def collect_garbage(
    session: Session, predictions: PredictionStore, model_name: str, kind: Kind = "predictions"
) -> int:
    """Delete the files of batches that a compaction superseded; returns how many."""
    model = ModelRepository(session).get(model_name)
    keys = predictions.files(kind, model.id, filtered=False)
    try:
        superseded = BatchRepository(session).superseded([batch_of(k) for k in keys])
    finally:
        session.rollback()
    doomed = [key for key in keys if batch_of(key) in superseded]
    for key in doomed:
        predictions.artifacts.delete(key)
    return len(doomed)
