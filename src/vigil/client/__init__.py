"""The Python client: log a model's production traffic to a Vigil server, or to a local store.

>>> client = vigil.Client("http://vigil:8000", token="vgl_...")      # or vigil.Client.local()
>>> client.create_model("churn", features=["age", "city"], predictions=["label"],
...                     id_column="request_id", timestamp_column="ts")
>>> client.log("churn", batch_df, version="v3")       # profiles per window + prediction rows
>>> client.log_labels("churn", ids, labels)            # ground truth, joined later by id
>>> client.monitors.apply("monitors.yaml")             # and the other areas: see `Client`

Raw feature values never leave the process: `log` sends each window's profile, and only the ids,
predictions and scores as rows. A call made while the server is down is written to an on-disk
spool and delivered, once, when the server answers again.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vigil.api.specs import (
    DEFAULT_MIN_LABEL_COVERAGE,
    IngestResult,
    KpiIn,
    KpiOut,
    ModelOut,
    ModelSpec,
)
from vigil.api.wire import LabelBatch, new_batch_id, table_to_ipc
from vigil.client.aliases import FormerMethods
from vigil.client.areas.alerts import AlertsArea, LocalAlerts, RemoteAlerts
from vigil.client.areas.data import Data
from vigil.client.areas.kpis import KpisArea, LocalKpis, RemoteKpis
from vigil.client.areas.monitors import (
    ChannelsArea,
    LocalChannels,
    LocalMonitors,
    MonitorsArea,
    RemoteChannels,
    RemoteMonitors,
)
from vigil.client.areas.performance import LocalPerformance, PerformanceArea, RemotePerformance
from vigil.client.areas.registry import LocalRegistry, RegistryArea, RemoteRegistryArea
from vigil.client.areas.retention import LocalRetention, RemoteRetention, RetentionArea
from vigil.client.areas.runs import LocalRuns, RemoteRuns, RunsArea
from vigil.client.batching import (
    TIMESTAMP_TYPE,
    as_table,
    combined,
    ingested,
    row_times,
    segment_profiles,
    split_log,
    utc,
    window_profiles,
)
from vigil.client.local import LocalTransport
from vigil.client.spool import DEFAULT_SPOOL_DIR, Spooling
from vigil.client.transport import HttpTransport, ServerUnavailableError, Transport
from vigil.errors import InvalidInputError
from vigil.profile import DatasetProfile
from vigil.schema import ID_COLUMN, LABEL_COLUMN, TIMESTAMP_COLUMN
from vigil.windows import Grid, GridLike

__all__ = ["DEFAULT_SPOOL_DIR", "Client", "ServerUnavailableError", "split_log"]


class Client(FormerMethods, Spooling):
    """Log a model's traffic to Vigil: `Client(url, token=...)`, or `Client.local()` for the
    embedded store. Both have the same methods and sub-clients.

    On the client itself: declaring models (`create_model`, `get_model`, `models`) and logging
    (`log`, `log_profiles`, `log_labels`, `log_kpi`, with `flush`, `pending` and the spool).
    The rest is by area, each the same on a server and on the local store:

    - `client.data`: windows, segments, merged profile, prediction rows of a model's traffic
    - `client.performance`: realized, estimated (CBPE or DLE), by segment, fairness
    - `client.kpis`: logged KPI values, their series per version and window, comparisons
    - `client.monitors`: save, create, update, get, list, delete, apply a YAML file, run
    - `client.channels`: where alerts go (list, save, delete)
    - `client.alerts`: list, get, ack, resolve
    - `client.registry`: registered models, versions, aliases, history, version comparisons
    - `client.runs`: tracking runs (get, search, metric history, watch while running)
    - `client.retention`: how long a model's rows, fine windows, alerts and events are kept

    The former top-level methods (`client.get_monitor(...)`, `client.alerts(...)`, ...) still
    work for one release, with a DeprecationWarning naming the new call.
    """

    data: Data
    performance: PerformanceArea
    kpis: KpisArea
    monitors: MonitorsArea
    channels: ChannelsArea
    alerts: AlertsArea
    registry: RegistryArea
    runs: RunsArea
    retention: RetentionArea

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
        transport = HttpTransport(url, token, timeout=timeout, retries=retries, backoff=backoff)
        spool = Path(spool_dir) if spool_dir is not None else None
        self._setup(url, transport, spool, flush_interval, max_body_bytes)

    def _setup(
        self,
        url: str,
        transport: Transport,
        spool_dir: Path | None,
        flush_interval: float | None,
        max_body_bytes: int,
    ) -> None:
        self.url = url
        self._transport = transport
        self.spool_dir = spool_dir
        self.flush_interval = flush_interval
        self.max_body_bytes = max_body_bytes
        self._specs: dict[str, ModelSpec] = {}
        self._shapes: dict[
            str, tuple[ModelSpec, tuple[Grid, tuple[str, ...], tuple[str, ...]]]
        ] = {}
        self._init_spooling()
        self.data = Data(transport)
        if isinstance(transport, HttpTransport):
            api = transport.api
            self.performance = RemotePerformance(api)
            self.kpis = RemoteKpis(api)
            self.monitors = RemoteMonitors(api)
            self.channels = RemoteChannels(api)
            self.alerts = RemoteAlerts(api)
            self.registry = RemoteRegistryArea(api)
            self.runs = RemoteRuns(api)
            self.retention = RemoteRetention(api)
        else:
            assert isinstance(transport, LocalTransport)
            store = transport.store
            self.performance = LocalPerformance(store)
            self.kpis = LocalKpis(store)
            self.monitors = LocalMonitors(store)
            self.channels = LocalChannels(store)
            self.alerts = LocalAlerts(store)
            self.registry = LocalRegistry(store)
            self.runs = LocalRuns(store)
            self.retention = LocalRetention(store)

    @classmethod
    def local(cls, store_url: str | None = None, artifacts_url: str | None = None) -> Client:
        """A client writing straight to the store (SQLite by default), with no server."""
        from vigil.config import StoreSettings

        settings = StoreSettings()
        url = store_url or settings.store_url
        transport = LocalTransport(url, artifacts_url or settings.artifacts_url)
        client = cls.__new__(cls)
        client._setup(url, transport, None, None, 16 << 20)
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
        window: GridLike = "hour",
        description: str = "",
        registry_model: str | None = None,
        row_features: Sequence[str] = (),
        min_label_coverage: float = DEFAULT_MIN_LABEL_COVERAGE,
    ) -> ModelOut:
        """Declare a monitored model and its columns' roles (again with the same spec is a no-op).

        `window` is the time grid its traffic is profiled in (`vigil.windows`): "hour" (the
        default), "day", "week", "month", "quarter", "year", a length ("15m", a timedelta or
        seconds) or a calendar unit in a time zone ("day@Europe/Oslo");
        `registry_model` names the registered model it serves, once the registry has it.
        `row_features` are features whose values are stored with each prediction row (for
        estimating a regression model's loss without labels); by default none are, and raw
        feature values never leave this process. A window's realized performance is complete
        once `min_label_coverage` of its predictions have labels.
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
                window=Grid.of(window).to_str(),
                registry_model=registry_model,
                row_features=list(row_features),
                min_label_coverage=min_label_coverage,
            )
        except ValueError as exc:
            raise InvalidInputError(f"invalid model definition for {name!r}: {exc}") from None
        model = self._transport.create_model(spec)
        self._specs[name] = spec
        return model

    def get_model(self, name: str) -> ModelOut:
        return self._transport.get_model(name)

    def models(self) -> list[ModelOut]:
        return self._transport.list_models()

    def _spec(self, name: str) -> ModelSpec:
        if name not in self._specs:
            model = self.get_model(name)
            self._specs[name] = ModelSpec(**model.model_dump(exclude={"created_at"}))
        return self._specs[name]

    def _shape(self, name: str, spec: ModelSpec) -> tuple[Grid, tuple[str, ...], tuple[str, ...]]:
        """`spec.grid`, `spec.profiled_columns` and `spec.row_columns`, worked out once per spec
        (each is computed again on every read; the grid parses the model's window)."""
        known = self._shapes.get(name)
        if known is None or known[0] is not spec:
            shape = (spec.grid, tuple(spec.profiled_columns), tuple(spec.row_columns))
            known = self._shapes[name] = (spec, shape)
        return known[1]

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
        grid, profiled_columns, row_columns = self._shape(model, spec)
        table = as_table(data)
        times = row_times(spec, table, timestamp)
        names = table.schema.names
        present = set(names)
        profiled = [c for c in profiled_columns if c in present]
        if spec.id_column and spec.id_column not in present:
            raise InvalidInputError(
                f"model {model!r} has id column {spec.id_column!r}, which the data lacks; "
                f"its columns are {names}",
                column=spec.id_column,
            )
        if not profiled and table.num_rows:
            raise InvalidInputError(
                f"the data has none of model {model!r}'s columns {spec.profiled_columns}; "
                f"its columns are {names}"
            )
        features = table.select(profiled)
        profiles = window_profiles(features, times, grid)
        if spec.segments:
            segmented = segment_profiles(features, times, grid, spec.segments)
            profiles += [blob for _, blob in segmented]
            segments = [""] * (len(profiles) - len(segmented)) + [key for key, _ in segmented]
        else:
            segments = []
        rows: dict[str, pa.Array | pa.ChunkedArray] = {TIMESTAMP_COLUMN: times}
        if spec.id_column:
            ids = table[spec.id_column]
            rows[ID_COLUMN] = ids if ids.type == pa.string() else pc.cast(ids, pa.string())
        rows.update({c: table[c] for c in row_columns if c in present})
        results = [
            ingested(self._deliver("log", model, batch.encode()))
            for batch in split_log(
                version or "",
                profiles,
                pa.table(rows) if table.num_rows else None,
                self.max_body_bytes,
                segments,
            )
        ]
        return combined(results, table.num_rows)

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
            ingested(self._deliver("log", model, batch.encode()))
            for batch in split_log(version or "", blobs, None, self.max_body_bytes)
        ]
        return combined(results, n_rows)

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
        return ingested(self._deliver("labels", model, LabelBatch(table_to_ipc(table)).encode()))

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

    def close(self) -> None:
        """Stop the background flusher, try once more to deliver the spool, release connections."""
        self._stop_spooling()
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
