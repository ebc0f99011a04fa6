"""The Python client: log a model's production traffic to a Vigil server, or to a local store.

>>> client = vigil.Client("http://vigil:8000", token="vgl_...")      # or vigil.Client.local()
>>> client.create_model("churn", features=["age", "city"], predictions=["label"],
...                     id_column="request_id", timestamp_column="ts")
>>> client.log("churn", batch_df, version="v3")       # profiles per window + prediction rows
>>> client.log_labels("churn", ids, labels)            # ground truth, joined later by id

Raw feature values never leave the process: `log` sends each window's profile, and only the ids,
predictions and scores as rows. A call made while the server is down is written to an on-disk
spool and delivered, once, when the server answers again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from vigil.api.specs import IngestResult, KpiIn, KpiOut, ModelOut, ModelSpec, WindowOut
from vigil.api.wire import LabelBatch, LogBatch, new_batch_id, table_to_ipc
from vigil.client.batching import (
    TIMESTAMP_TYPE,
    as_table,
    query_params,
    row_times,
    segment_profiles,
    to_window_seconds,
    utc,
    window_profiles,
)
from vigil.client.monitoring import MonitoringMethods
from vigil.client.transport import (
    HttpTransport,
    LocalTransport,
    ServerUnavailableError,
    Transport,
    UnavailableError,
)
from vigil.errors import InvalidInputError, VigilError
from vigil.profile import DatasetProfile
from vigil.schema import ID_COLUMN, LABEL_COLUMN, TIMESTAMP_COLUMN

if TYPE_CHECKING:
    from vigil.lifecycle.live import LivePage

__all__ = ["DEFAULT_SPOOL_DIR", "Client", "ServerUnavailableError"]

logger = logging.getLogger("vigil.client")
T = TypeVar("T")

DEFAULT_SPOOL_DIR = Path(".vigil") / "spool"


class Client(MonitoringMethods):
    """Log a model's traffic to Vigil: `Client(url, token=...)`, or `Client.local()` for the
    embedded store. Both have the same methods."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        spool_dir: str | os.PathLike[str] | None = DEFAULT_SPOOL_DIR,
        flush_interval: float | None = 10.0,
        max_body_bytes: int = 16 << 20,
    ) -> None:
        if max_body_bytes < 1024:
            raise InvalidInputError(f"max_body_bytes must be at least 1024, got {max_body_bytes}")
        if flush_interval is not None and flush_interval <= 0:
            raise InvalidInputError(
                f"flush_interval must be positive seconds or None, got {flush_interval}"
            )
        if retries < 0:
            raise InvalidInputError(f"retries must be 0 or more, got {retries}")
        if timeout <= 0:
            raise InvalidInputError(f"timeout must be positive, got {timeout}")
        self.url = url
        self._token = token
        self._transport: Transport = HttpTransport(
            url, token, timeout=timeout, retries=retries, backoff=backoff
        )
        self.spool_dir = Path(spool_dir) if spool_dir is not None else None
        self.flush_interval = flush_interval
        self.max_body_bytes = max_body_bytes
        self._specs: dict[str, ModelSpec] = {}
        self._init_spooling()

    def _init_spooling(self) -> None:
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    @classmethod
    def local(cls, store_url: str | None = None, artifacts_url: str | None = None) -> Client:
        """A client writing straight to the store (SQLite by default), with no server."""
        from vigil.config import Settings

        settings = Settings()
        client = cls.__new__(cls)
        client.url = store_url or settings.store_url
        client._transport = LocalTransport(client.url, artifacts_url or settings.artifacts_url)
        client._token = None
        client.spool_dir = None
        client.flush_interval = None
        client.max_body_bytes = 16 << 20
        client._specs = {}
        client._init_spooling()
        return client

    # models ---------------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        features: Sequence[str] = (),
        predictions: Sequence[str] = (),
        scores: Sequence[str] = (),
        segments: Sequence[str] = (),
        id_column: str | None = None,
        timestamp_column: str | None = None,
        target_column: str | None = None,
        window: dt.timedelta | int = 3600,
        description: str = "",
        registry_model: str | None = None,
    ) -> ModelOut:
        """Declare a monitored model and its columns' roles (again with the same spec is a no-op).

        `window` is the length of the windows its traffic is profiled in (hourly by default);
        `registry_model` names the registered model it serves, once the registry has it.
        """
        try:
            spec = ModelSpec(
                name=name,
                description=description,
                features=list(features),
                predictions=list(predictions),
                scores=list(scores),
                segments=list(segments),
                id_column=id_column,
                timestamp_column=timestamp_column,
                target_column=target_column,
                window_seconds=to_window_seconds(window),
                registry_model=registry_model,
            )
        except ValueError as exc:
            raise InvalidInputError(f"invalid model definition for {name!r}: {exc}") from None
        model = self._call(lambda: self._transport.create_model(spec))
        self._specs[name] = spec
        return model

    def get_model(self, name: str) -> ModelOut:
        return self._call(lambda: self._transport.get_model(name))

    def models(self) -> list[ModelOut]:
        return self._call(self._transport.list_models)

    def _spec(self, name: str) -> ModelSpec:
        if name not in self._specs:
            model = self.get_model(name)
            self._specs[name] = ModelSpec(**model.model_dump(exclude={"created_at"}))
        return self._specs[name]

    # logging --------------------------------------------------------------------------------

    def log(
        self,
        model: str,
        data: Any,
        *,
        version: str | None = None,
        timestamp: dt.datetime | None = None,
    ) -> IngestResult | None:
        """Profile `data` per window and send the profiles, plus ids, predictions and scores as rows.

        Row times come from `timestamp` if given, else the model's timestamp column, else now.
        Columns the model does not declare are ignored. Returns None when the call was spooled.
        """
        spec = self._spec(model)
        table = as_table(data)
        times = row_times(spec, table, timestamp)
        profiled = [c for c in spec.profiled_columns if c in table.column_names]
        if spec.id_column and spec.id_column not in table.column_names:
            raise InvalidInputError(
                f"model {model!r} has id column {spec.id_column!r}, which the data lacks; "
                f"its columns are {table.column_names}",
                column=spec.id_column,
            )
        if not profiled and table.num_rows:
            raise InvalidInputError(
                f"the data has none of model {model!r}'s columns {spec.profiled_columns}; "
                f"its columns are {table.column_names}"
            )
        profiles = window_profiles(table.select(profiled), times, spec.window_seconds)
        segmented = segment_profiles(
            table.select(profiled), times, spec.window_seconds, spec.segments
        )
        segments = [""] * len(profiles) + [key for key, _ in segmented]
        profiles += [blob for _, blob in segmented]
        rows: dict[str, pa.Array | pa.ChunkedArray] = {TIMESTAMP_COLUMN: times}
        if spec.id_column:
            rows[ID_COLUMN] = pc.cast(table[spec.id_column], pa.string())
        rows.update({c: table[c] for c in spec.row_columns if c in table.column_names})
        results = [
            _ingested(self._deliver("log", model, batch.encode()))
            for batch in split_log(
                version or "",
                profiles,
                pa.table(rows) if table.num_rows else None,
                self.max_body_bytes,
                segments,
            )
        ]
        return _combined(results, table.num_rows)

    def log_profiles(
        self, model: str, profiles: Iterable[DatasetProfile], *, version: str | None = None
    ) -> IngestResult | None:
        """Send profiles built elsewhere (a Spark job, a batch backfill), one per window.

        Each profile must carry a window of the model's window length, aligned like the model's
        windows (e.g. `vigil.spark.profile(df, window_column=..., window="hour")`). The server
        merges each into its window, as it does with profiles from `log`. Columns the model does
        not declare are left out.
        """
        declared = set(self._spec(model).profiled_columns)
        blobs = []
        n_rows = 0
        for index, item in enumerate(profiles):
            if not isinstance(item, DatasetProfile):
                raise InvalidInputError(
                    f"profile #{index} is a {type(item).__name__}, not a vigil.DatasetProfile"
                )
            if item.window is None:
                raise InvalidInputError(
                    f"profile #{index} has no window; build it with a window "
                    "(vigil.profile(..., window=(start, end)) or grouped by a window column)"
                )
            # As in `log`, columns the model does not declare (the window column...) are left out.
            blobs.append(item.select([c for c in item.columns if c in declared]).to_bytes())
            n_rows += item.n_rows
        if not blobs:
            raise InvalidInputError("log_profiles needs at least one profile")
        results = [
            _ingested(self._deliver("log", model, batch.encode()))
            for batch in split_log(version or "", blobs, None, self.max_body_bytes)
        ]
        return _combined(results, n_rows)

    def log_labels(
        self,
        model: str,
        ids: Sequence[Any] | pa.Array,
        labels: Sequence[Any] | pa.Array,
        timestamp: dt.datetime | None = None,
    ) -> IngestResult | None:
        """Send ground truth for earlier predictions; joined to them by id (latest label wins)."""
        id_array = pa.array(ids) if not isinstance(ids, pa.Array) else ids
        label_array = pa.array(labels) if not isinstance(labels, pa.Array) else labels
        if len(id_array) != len(label_array):
            raise InvalidInputError(
                f"ids and labels must have the same length, got {len(id_array)} and {len(label_array)}"
            )
        at = utc(timestamp) if timestamp else dt.datetime.now(dt.UTC)
        table = pa.table(
            {
                ID_COLUMN: pc.cast(id_array, pa.string()),
                LABEL_COLUMN: label_array,
                TIMESTAMP_COLUMN: pa.array([at] * len(id_array), TIMESTAMP_TYPE),
            }
        )
        return _ingested(self._deliver("labels", model, LabelBatch(table_to_ipc(table)).encode()))

    def log_kpi(
        self,
        name: str,
        value: float,
        timestamp: dt.datetime | None = None,
        model: str | None = None,
        version: str | None = None,
    ) -> KpiOut | None:
        """Record a business KPI value, optionally for one model (and version)."""
        try:
            kpi = KpiIn(
                name=name,
                value=value,
                timestamp=utc(timestamp or dt.datetime.now(dt.UTC)),
                model=model,
                version=version or "",
                batch_id=new_batch_id(),
            )
        except ValueError as exc:
            raise InvalidInputError(f"invalid KPI {name!r}={value!r}: {exc}") from None
        body = kpi.model_dump_json().encode()
        result = self._deliver("kpi", model or "", body)
        assert result is None or isinstance(result, KpiOut)
        return result

    # reading --------------------------------------------------------------------------------

    def windows(
        self,
        model: str,
        *,
        version: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        segment: str | None = None,
    ) -> list[WindowOut]:
        """The model's windows (of one segment, `"<column>=<value>"`, or the whole traffic)."""
        params = query_params(version=version, start=start, end=end, segment=segment)
        return self._call(lambda: self._transport.windows(model, params))

    def segments(self, model: str) -> list[str]:
        """The segment keys (`"<column>=<value>"`) the model has windows for."""
        return self._call(lambda: self._transport.segments(model))

    def profile(
        self,
        model: str,
        *,
        version: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        segment: str | None = None,
    ) -> DatasetProfile:
        """The merged profile of the model's windows in [start, end) (of one segment, or the
        whole traffic)."""
        params = query_params(version=version, start=start, end=end, segment=segment)
        return self._call(lambda: self._transport.profile(model, params))

    def predictions(
        self, model: str, *, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Prediction rows in [start, end) with their latest label (`vigil_label`)."""
        params = query_params(start=start, end=end)
        return self._call(lambda: self._transport.predictions(model, params))

    def kpis(self, *, name: str | None = None, model: str | None = None) -> list[KpiOut]:
        params = query_params(name=name, model=model)
        return self._call(lambda: self._transport.kpis(params))

    # performance (docs/performance.md) -----------------------------------------------------

    def performance(
        self,
        model: str,
        *,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        segment: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Realized metrics and label coverage per window (`options`: task, positive_class,
        threshold). The JSON of `GET /api/v1/models/{name}/performance`, in both modes."""
        params = {"window": window, "start": start, "end": end, "version": version}
        return self._performance(
            model, "performance", "realized", {**params, "segment": segment}, options
        )

    def estimated_performance(
        self,
        model: str,
        *,
        reference_start: dt.datetime,
        reference_end: dt.datetime,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        segment: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Metrics estimated without labels (CBPE calibrated on the labelled reference period)."""
        params = {
            "reference_start": reference_start,
            "reference_end": reference_end,
            "window": window,
            "start": start,
            "end": end,
            "version": version,
            "segment": segment,
        }
        return self._performance(model, "performance/estimated", "estimated", params, options)

    def fairness(
        self,
        model: str,
        attribute: str,
        *,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Fairness across the groups of segment column `attribute`, per window."""
        params = {"attribute": attribute, "window": window, "start": start, "end": end}
        return self._performance(
            model, "fairness", "fairness_report", {**params, "version": version}, options
        )

    def segment_performance(
        self,
        model: str,
        *,
        baseline_start: dt.datetime,
        baseline_end: dt.datetime,
        start: dt.datetime,
        end: dt.datetime,
        metric: str = "accuracy",
        window: str = "day",
        version: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The segments that explain a change of `metric` between two periods, and the features
        whose drift correlates with it."""
        params = {
            "baseline_start": baseline_start,
            "baseline_end": baseline_end,
            "start": start,
            "end": end,
            "metric": metric,
            "window": window,
            "version": version,
        }
        return self._performance(model, "performance/segments", "segment_report", params, options)

    def _performance(
        self,
        model: str,
        path: str,
        function: str,
        params: dict[str, Any],
        options: dict[str, Any],
    ) -> dict[str, Any]:
        from vigil.client.performance import call

        return self._call(lambda: call(self._transport, model, path, function, params, options))

    # delivery and spool ---------------------------------------------------------------------

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except UnavailableError as exc:
            raise ServerUnavailableError(str(exc), url=self.url) from None

    def _send(
        self, kind: str, model: str, body: bytes, *, attempts: int | None = None
    ) -> IngestResult | KpiOut:
        transport = self._transport
        if kind == "kpi":
            kpi = KpiIn.model_validate_json(body)
            if isinstance(transport, HttpTransport):
                return transport.send_kpi(kpi, attempts=attempts)
            return transport.send_kpi(kpi)
        if isinstance(transport, HttpTransport):
            return transport.send(kind, model, body, attempts=attempts)
        return transport.send(kind, model, body)

    def _deliver(self, kind: str, model: str, body: bytes) -> IngestResult | KpiOut | None:
        if self.spool_dir is not None and self._spooled():
            self.flush()
            if self._spooled():
                # Still down: queue behind the spooled calls at once, without the retries, so
                # serving code is not slowed down call after call while the server is away.
                self._spool(kind, model, body)
                return None
        try:
            return self._send(kind, model, body)
        except UnavailableError as exc:
            if self.spool_dir is None:
                raise ServerUnavailableError(str(exc), url=self.url) from None
            path = self._spool(kind, model, body)
            logger.warning(
                "Vigil server unavailable (%s); spooled the %s call to %s", exc, kind, path
            )
            return None

    def _spooled(self) -> list[Path]:
        if self.spool_dir is None or not self.spool_dir.is_dir():
            return []
        return sorted(self.spool_dir.glob("*.vsp"))

    def _spool(self, kind: str, model: str, body: bytes) -> Path:
        assert self.spool_dir is not None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.{kind}.vsp"
        header = model.encode()
        temp = self.spool_dir / f".{name}.tmp"
        temp.write_bytes(len(header).to_bytes(2, "big") + header + body)
        path = self.spool_dir / name
        os.replace(temp, path)
        self._start_flusher()
        return path

    def _start_flusher(self) -> None:
        """A daemon thread that delivers the spool every `flush_interval` seconds until it is
        empty, so spooled calls arrive even if the process logs nothing more."""
        if self.flush_interval is None or (self._flusher and self._flusher.is_alive()):
            return
        interval = self.flush_interval

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.flush()
                except Exception:
                    logger.exception("Vigil spool flush failed")
                if not self._spooled():
                    return

        self._flusher = threading.Thread(target=run, name="vigil-spool-flusher", daemon=True)
        self._flusher.start()

    def flush(self) -> int:
        """Deliver spooled calls, oldest first; returns how many were delivered.

        Stops at the first that still cannot be delivered. A call the server refuses for good
        (a 4xx) is moved to `rejected/` in the spool folder instead of blocking the others.
        """
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> int:
        delivered = 0
        for path in self._spooled():
            try:
                blob = path.read_bytes()
            except FileNotFoundError:
                continue  # another process delivered it
            size = int.from_bytes(blob[:2], "big")
            model, body = blob[2 : 2 + size].decode(), blob[2 + size :]
            kind = path.name.split(".")[-2]
            try:
                self._send(kind, model, body, attempts=1)
            except UnavailableError:
                break
            except VigilError as exc:
                assert self.spool_dir is not None
                rejected = self.spool_dir / "rejected"
                rejected.mkdir(exist_ok=True)
                os.replace(path, rejected / path.name)
                logger.error("Vigil refused spooled call %s: %s", path.name, exc)
                continue
            path.unlink(missing_ok=True)
            delivered += 1
        return delivered

    @property
    def pending(self) -> int:
        """How many calls wait in the spool."""
        return len(self._spooled())

    def watch_run(
        self, run_id: str, *, interval: float = 1.0, timeout: float | None = None
    ) -> Iterator[LivePage]:
        """Follow a tracking run while it runs: pages of its new metric and system-metric points
        until it ends (see `vigil.watch_run`)."""
        from vigil.lifecycle.live import watch_run

        if isinstance(self._transport, LocalTransport):
            return watch_run(
                run_id, store=self._transport.store, interval=interval, timeout=timeout
            )
        return watch_run(
            run_id, url=self.url, token=self._token, interval=interval, timeout=timeout
        )

    def close(self) -> None:
        """Stop the background flusher, try once more to deliver the spool, release connections."""
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=30)
        if self.spool_dir is not None and self._spooled():
            self.flush()
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def split_log(
    version: str,
    profiles: list[bytes],
    rows: pa.Table | None,
    limit: int,
    segments: Sequence[str] = (),
) -> list[LogBatch]:
    """One log batch, or several when it would pass `limit` bytes (profiles and row slices are
    spread over batches with ids `<id>-0`, `<id>-1`..., each applied once on its own).

    `segments`, when given, holds each profile's segment key ("" for the whole traffic)."""
    half = max(limit // 2, 1)
    keys = list(segments) or [""] * len(profiles)
    groups: list[list[tuple[str, bytes]]] = [[]]
    for key, blob in zip(keys, profiles, strict=True):
        if groups[-1] and sum(len(b) for _, b in groups[-1]) + len(blob) > half:
            groups.append([])
        groups[-1].append((key, blob))
    slices: list[pa.Table | None] = [rows]
    if rows is not None and rows.nbytes > half:
        step = max(1, rows.num_rows * half // rows.nbytes)
        slices = [rows.slice(i, step) for i in range(0, rows.num_rows, step)]
    count = max(len(groups), len(slices))
    base = new_batch_id()
    return [
        LogBatch(
            version=version,
            profiles=[blob for _, blob in groups[i]] if i < len(groups) else [],
            segments=[key for key, _ in groups[i]] if i < len(groups) and any(keys) else [],
            rows=table_to_ipc(part) if (part := slices[i] if i < len(slices) else None) else None,
            batch_id=base if count == 1 else f"{base}-{i}",
        )
        for i in range(count)
    ]


def _combined(results: list[IngestResult | None], n_rows: int) -> IngestResult | None:
    """The result of a log call sent as one or several batches (None if any was spooled)."""
    if any(r is None for r in results):
        return None
    done = [r for r in results if r is not None]
    if len(done) == 1:
        return done[0]
    return IngestResult(
        batch_id=done[0].batch_id.rsplit("-", 1)[0],
        duplicate=all(r.duplicate for r in done),
        n_rows=n_rows,
        n_profiles=sum(r.n_profiles for r in done),
        windows=sorted({w for r in done for w in r.windows}),
    )


def _ingested(result: IngestResult | KpiOut | None) -> IngestResult | None:
    assert result is None or isinstance(result, IngestResult)
    return result
