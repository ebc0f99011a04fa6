"""Attributions in production: mean |SHAP| per feature per window, on a sample of logged rows.

Logged rows keep predictions, scores, segments and ids, not feature values. So the rows are
explained where the features still are, at log time, beside the model: `log_attributions`
explains a seeded random share (`sample`, 10% by default) of the rows it is given and sends, per
window, the number of rows explained and the sum of |attribution| of each feature. Sums and
counts add up, so uploads merge into windows like profiles do, and no feature value leaves the
serving process (which storing sampled feature rows would have required).

>>> client = vigil.Client(url, token=token)                               # doctest: +SKIP
>>> client.log("churn", batch, version="3")
>>> vigil.explain.log_attributions("churn", model, batch, version="3", sample=0.1, client=client)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.analysis.explain.inputs import OutputSpace, as_frame, model_features, select_features
from vigil.analysis.explain.shap_backend import (
    DEFAULT_BACKGROUND_SIZE,
    AlgorithmChoice,
    shap_explain,
)
from vigil.caps import MAX_MODEL_COLUMNS
from vigil.client.batching import as_table, row_times
from vigil.errors import InvalidInputError
from vigil.explain.local import resolve_model
from vigil.importances.store import AttributionWindow
from vigil.windows import EPOCH as _EPOCH
from vigil.windows import Grid, GridLike

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vigil.api.specs import ModelOut, ModelSpec
    from vigil.client import Client
    from vigil.store.core import Store

_US = dt.timedelta(microseconds=1)


class WindowSumsIn(BaseModel):
    """One window of an attribution upload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.datetime
    end: dt.datetime
    n_rows: int = Field(ge=0)
    sums: dict[str, float] = Field(max_length=MAX_MODEL_COLUMNS)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} has no time zone; write it in UTC, e.g. ...Z")
        return value.astimezone(dt.UTC)


class AttributionsIn(BaseModel):
    """An attribution upload (`POST /api/v1/models/{name}/attributions`); `batch_id` makes a
    retried upload count once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_id: str = Field(min_length=1, max_length=64)
    version: str = Field(default="", max_length=200)
    method: str = Field(default="shap", min_length=1, max_length=100)
    windows: list[WindowSumsIn] = Field(max_length=10_000)


class AttributionsOut(BaseModel):
    batch_id: str
    duplicate: bool
    n_rows: int
    windows: list[dt.datetime]


@dataclass(frozen=True)
class AttributionsLogged:
    """What `log_attributions` explained and sent."""

    n_rows: int
    n_explained: int
    batch: AttributionsIn
    result: AttributionsOut | None


def window_sums(
    contributions: np.ndarray[Any, np.dtype[Any]],
    features: Sequence[str],
    times: Sequence[dt.datetime],
    grid: GridLike,
) -> list[WindowSumsIn]:
    """Per window of `grid` (the model's, as the client's profile windows are): rows and sum of
    |contribution| per feature."""
    if len(times) != contributions.shape[0]:
        raise InvalidInputError(f"{len(times)} times for {contributions.shape[0]} rows")
    cut = Grid.of(grid)
    keys = cut.floor_micros(np.array([(t - _EPOCH) // _US for t in times], dtype=np.int64))
    out = []
    for key in np.unique(keys):
        chosen = np.abs(contributions[keys == key])
        start, end = cut.window_of(_EPOCH + int(key) * _US)
        out.append(
            WindowSumsIn(
                start=start,
                end=end,
                n_rows=int(chosen.shape[0]),
                sums={f: float(v) for f, v in zip(features, chosen.sum(axis=0), strict=True)},
            )
        )
    return out


def log_attributions(
    model: str,
    model_ref: Any,
    data: Any,
    *,
    sample: float = 0.1,
    version: str | None = None,
    timestamp: dt.datetime | None = None,
    seed: int | None = None,
    client: Client | None = None,
    store: Store | None = None,
    algorithm: AlgorithmChoice = "auto",
    output: OutputSpace | None = None,
    target: Any = None,
    background: Any = None,
    background_size: int = DEFAULT_BACKGROUND_SIZE,
) -> AttributionsLogged:
    """Explain a `sample` share of `data`'s rows with `model_ref` and add their |attributions|
    to monitored model `model`'s windows (through `client`, a server or local client, or
    straight to `store`).

    Row times follow `Client.log`: `timestamp`, else the model's timestamp column, else now.
    """
    if not isinstance(sample, int | float) or not 0 < sample <= 1:
        raise InvalidInputError(f"sample must be a share in (0, 1], got {sample!r}")
    if (client is None) == (store is None):
        raise InvalidInputError("give client= (a vigil.Client) or store=, one of them")
    spec: ModelSpec = client._spec(model) if client is not None else _local_spec(store, model)
    estimator, _ = resolve_model(model_ref, store=store)
    frame = as_frame(data)
    rng = np.random.default_rng(seed)
    chosen = frame if sample >= 1 else frame[rng.random(len(frame)) < sample]
    features = None if model_features(estimator) is not None else spec.features or None
    batch = AttributionsIn(batch_id=uuid.uuid4().hex, version=version or "", windows=[])
    if len(chosen):
        selected = select_features(chosen, estimator, features)
        explanation = shap_explain(
            estimator,
            selected,
            algorithm=algorithm,
            output=output,
            target=target,
            background=background,
            background_size=background_size,
            seed=seed or 0,
        )
        sums = window_sums(
            explanation.contributions,
            explanation.features,
            row_times(spec, as_table(chosen), timestamp).to_pylist(),
            spec.grid,
        )
        batch = batch.model_copy(update={"windows": sums})
    result = _send(client, store, model, batch) if batch.windows else None
    return AttributionsLogged(len(frame), len(chosen), batch, result)


def _local_spec(store: Store | None, model: str) -> ModelOut:
    from vigil.ingestion import service

    assert store is not None
    with store.session() as session:
        return service.read_only(session, lambda s: service.get_model(s, model))


def _send(
    client: Client | None, store: Store | None, model: str, batch: AttributionsIn
) -> AttributionsOut:
    if store is not None:
        with store.session() as session:
            out = ingest_attributions(session, model, batch)
            session.commit()
            return out
    assert client is not None
    from vigil.client.local import LocalTransport
    from vigil.client.transport import HttpTransport

    transport = client._transport  # the client's own connection (its URL and token)
    if isinstance(transport, LocalTransport):
        return _send(None, transport.store, model, batch)
    if not isinstance(transport, HttpTransport):
        raise InvalidInputError(f"cannot send attributions through a {type(transport).__name__}")
    answer = transport.api.explain.log_attributions(model, batch.model_dump_json())
    return AttributionsOut.model_validate_json(answer)


def ingest_attributions(session: Session, model: str, batch: AttributionsIn) -> AttributionsOut:
    """Merge an upload into the model's attribution windows, once per `batch_id` (flushes; the
    caller commits)."""
    from vigil.importances.store import merge_attributions
    from vigil.store.repositories import BatchRepository, ModelRepository

    row = ModelRepository(session).get(model)
    n_rows = sum(w.n_rows for w in batch.windows)
    starts = sorted({w.start for w in batch.windows})
    claimed = BatchRepository(session).claim(batch.batch_id, row.id, "attribution", n_rows)
    if not claimed:
        return AttributionsOut(
            batch_id=batch.batch_id, duplicate=True, n_rows=n_rows, windows=starts
        )
    for window in batch.windows:
        if window.end <= window.start:
            raise InvalidInputError(
                f"attribution window ends ({window.end.isoformat()}) before it starts "
                f"({window.start.isoformat()})"
            )
    merge_attributions(
        session,
        model_id=row.id,
        version=batch.version,
        method=batch.method,
        windows=[(w.start, w.end, w.n_rows, w.sums) for w in batch.windows],
    )
    return AttributionsOut(batch_id=batch.batch_id, duplicate=False, n_rows=n_rows, windows=starts)


def attribution_windows(
    session: Session,
    model: str,
    *,
    version: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[AttributionWindow]:
    """The model's stored attribution windows (mean |attribution| per feature in `mean_abs`)."""
    from vigil.importances.store import read_attributions
    from vigil.store.repositories import ModelRepository

    row = ModelRepository(session).get(model)
    return read_attributions(session, row.id, version=version, start=start, end=end)
