"""Tracking operations on the store: experiments, runs, params, tags, metrics and artifacts.

`TrackingService` is what a `Run` writes through in local mode (and what the server's routers call).
Metrics are written in bulk: one multi-row INSERT per batch, plus one upsert per metric key into
`latest_metrics` that only moves forward (a higher step, or the same step and a later timestamp).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Float,
    String,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.api.tracking import (
    ArtifactOut,
    DatasetVersionOut,
    ExperimentOut,
    MetricPoint,
    RunComparison,
    RunData,
    RunInfo,
    RunsPage,
    RunStatus,
    nan_to_none,
    none_to_nan,
)
from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.store.artifacts import read_current
from vigil.store.core import Store
from vigil.store.tracking_tables import (
    Experiment,
    LatestMetric,
    Run,
    RunArtifact,
    RunMetric,
    RunParam,
    RunTag,
)
from vigil.tracking import metric_summary
from vigil.tracking.search import decode_page_token, encode_page_token, runs_query

MAX_KEY_LENGTH = 250
MAX_SEARCH_RESULTS = 50_000
MAX_PARAM_LENGTH = 6000
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_=\-][A-Za-z0-9._=\- ]*$")

Point = tuple[str, float, int, int]
"""(key, value, step, timestamp in ms)."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def check_key(key: str, what: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{what} key {key!r} must be a string of 1 to {MAX_KEY_LENGTH} characters",
            key=str(key),
        )
    return key


def check_artifact_path(path: str) -> str:
    """A run's artifact path: relative, `/`-separated, plain segments (no `.`, `..` or empty)."""
    segments = path.split("/")
    if not path or len(path) > 1000 or not all(_PATH_SEGMENT.match(s) for s in segments):
        raise InvalidInputError(
            f"artifact path {path!r} must be relative, made of segments of letters, digits, "
            "spaces and . _ = - (not '.' or '..'), at most 1000 characters",
            path=path,
        )
    return path


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _experiment_out(row: Experiment) -> ExperimentOut:
    return ExperimentOut(
        id=row.id,
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        owner=row.owner,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )


def run_info(row: Run) -> RunInfo:
    return RunInfo(
        id=row.id,
        experiment_id=row.experiment_id,
        name=row.name,
        status=RunStatus(row.status),
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        owner=row.owner,
        parent_id=row.parent_id,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
    )


class TrackingService:
    """Experiments and runs in a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # experiments ----------------------------------------------------------------------------

    def get_experiment(self, name_or_id: str | int) -> ExperimentOut:
        with self.store.session() as session:
            row = self._experiment(session, name_or_id)
            if row is None:
                raise NotFoundError(
                    f"no experiment {name_or_id!r}; create it with start_run(experiment=...)",
                    experiment=str(name_or_id),
                )
            return _experiment_out(row)

    def find_experiment(self, name_or_id: str | int) -> ExperimentOut | None:
        with self.store.session() as session:
            row = self._experiment(session, name_or_id)
            return None if row is None else _experiment_out(row)

    @staticmethod
    def _experiment(session: Session, name_or_id: str | int) -> Experiment | None:
        if isinstance(name_or_id, int):
            return session.get(Experiment, name_or_id)
        return session.scalars(select(Experiment).where(Experiment.name == name_or_id)).first()

    def create_experiment(
        self, name: str, *, owner: str = "", artifact_location: str = ""
    ) -> ExperimentOut:
        if not name or len(name) > 500:
            raise InvalidInputError(f"experiment name {name!r} must have 1 to 500 characters")
        with self.store.session() as session:
            if self._experiment(session, name) is not None:
                raise ConflictError(f"experiment {name!r} already exists", experiment=name)
            stamp = now_ms()
            row = Experiment(
                name=name,
                owner=owner,
                artifact_location=artifact_location,
                lifecycle_stage="active",
                created_ms=stamp,
                updated_ms=stamp,
            )
            session.add(row)
            session.flush()
            if not artifact_location:
                row.artifact_location = f"experiments/{row.id}"
            session.commit()
            return _experiment_out(row)

    def ensure_experiment(self, name: str, *, owner: str = "") -> ExperimentOut:
        found = self.find_experiment(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name, owner=owner)
        except (ConflictError, IntegrityError):  # created by another process meanwhile
            return self.get_experiment(name)

    def list_experiments(self) -> list[ExperimentOut]:
        with self.store.session() as session:
            rows = session.scalars(select(Experiment).order_by(Experiment.id)).all()
            return [_experiment_out(r) for r in rows]

    # runs -------------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: int,
        *,
        name: str = "",
        owner: str = "",
        parent_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_ms: int | None = None,
    ) -> RunInfo:
        run_id = uuid.uuid4().hex
        with self.store.session() as session:
            if session.get(Experiment, experiment_id) is None:
                raise NotFoundError(f"no experiment with id {experiment_id}")
            if parent_id is not None and session.get(Run, parent_id) is None:
                raise NotFoundError(f"no parent run {parent_id!r}", run_id=parent_id)
            row = Run(
                id=run_id,
                experiment_id=experiment_id,
                name=name or f"run-{run_id[:8]}",
                status=RunStatus.RUNNING.value,
                start_ms=start_ms if start_ms is not None else now_ms(),
                end_ms=None,
                owner=owner,
                parent_id=parent_id,
                artifact_location=f"runs/{run_id}",
                lifecycle_stage="active",
            )
            session.add(row)
            session.flush()
            self._set_tags(session, run_id, dict(tags or {}))
            session.commit()
            return run_info(row)

    def _run(self, session: Session, run_id: str) -> Run:
        row = session.get(Run, run_id)
        if row is None:
            raise NotFoundError(f"no run {run_id!r}", run_id=run_id)
        return row

    def get_run_info(self, run_id: str) -> RunInfo:
        with self.store.session() as session:
            return run_info(self._run(session, run_id))

    def end_run(self, run_id: str, status: RunStatus, *, end_ms: int | None = None) -> RunInfo:
        with self.store.session() as session:
            row = self._run(session, run_id)
            row.status = RunStatus(status).value
            row.end_ms = end_ms if end_ms is not None else now_ms()
            session.commit()
            return run_info(row)

    def get_run(self, run_id: str) -> RunData:
        return self.get_runs([run_id])[0]

    def get_runs(self, run_ids: Sequence[str]) -> list[RunData]:
        """The runs with these ids, in this order (NotFoundError names a missing one)."""
        with self.store.session() as session:
            rows = {r.id: r for r in session.scalars(select(Run).where(Run.id.in_(run_ids)))}
            for run_id in run_ids:
                if run_id not in rows:
                    raise NotFoundError(f"no run {run_id!r}", run_id=run_id)
            return self.hydrate(session, [rows[i] for i in run_ids])

    @staticmethod
    def hydrate(session: Session, rows: Sequence[Run]) -> list[RunData]:
        """Runs with their params, tags and latest metrics (three queries for all of them)."""
        ids = [r.id for r in rows]
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
        if ids:
            # One round trip of column tuples, not three queries of ORM objects: a page of 100
            # runs has hundreds of these rows.
            # PostgreSQL: one array parameter (`= ANY(...)`), not 100 placeholders per IN: the
            # statement stays short enough for psycopg to cache its conversion (1 ms a search).
            def in_page(column: Any) -> Any:
                if session.get_bind().dialect.name == "postgresql":
                    return column == any_(bindparam("ids", type_=postgresql.ARRAY(String)))
                return column.in_(bindparam("ids", expanding=True))

            no_text, no_number = cast(null(), String), cast(null(), Float)
            found = session.execute(
                union_all(
                    select(
                        literal("p"), RunParam.run_id, RunParam.key, RunParam.value, no_number
                    ).where(in_page(RunParam.run_id)),
                    select(literal("t"), RunTag.run_id, RunTag.key, RunTag.value, no_number).where(
                        in_page(RunTag.run_id)
                    ),
                    select(
                        literal("m"),
                        LatestMetric.run_id,
                        LatestMetric.key,
                        no_text,
                        LatestMetric.value,
                    ).where(in_page(LatestMetric.run_id)),
                ),
                {"ids": ids},
            )
            for kind, run_id, key, text_value, number in found:
                if kind == "p":
                    params[run_id][key] = text_value
                elif kind == "t":
                    tags[run_id][key] = text_value
                else:
                    metrics[run_id][key] = none_to_nan(number)
        return [
            RunData(info=run_info(r), params=params[r.id], metrics=metrics[r.id], tags=tags[r.id])
            for r in rows
        ]

    # params, tags, metrics ------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Point] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Write params (immutable: a different value for a set key is a ConflictError), tags
        (overwritten) and metric points in one transaction."""
        params = dict(params or {})
        tags = dict(tags or {})
        for key in params:
            check_key(key, "param")
        for key in tags:
            check_key(key, "tag")
        with self.store.session() as session:
            if session.get(Run, run_id) is None:
                raise NotFoundError(f"no run {run_id!r}", run_id=run_id)
            if params:
                self._log_params(session, run_id, params)
            if tags:
                self._set_tags(session, run_id, tags)
            if metrics:
                self._log_metrics(session, run_id, metrics)
            session.commit()

    def _log_params(self, session: Session, run_id: str, params: dict[str, str]) -> None:
        for key, value in params.items():
            if len(value) > MAX_PARAM_LENGTH:
                raise InvalidInputError(
                    f"param {key!r} has a value of {len(value)} characters; the limit is "
                    f"{MAX_PARAM_LENGTH} (log a long value as an artifact instead)",
                    key=key,
                )
        existing = dict(
            session.execute(
                select(RunParam.key, RunParam.value).where(
                    RunParam.run_id == run_id, RunParam.key.in_(list(params))
                )
            ).all()
        )
        for key, value in params.items():
            if key in existing and existing[key] != value:
                raise ConflictError(
                    f"param {key!r} of run {run_id} is already {existing[key]!r}; it cannot "
                    f"become {value!r} (params are immutable: log a new run, or use a tag)",
                    key=key,
                    old_value=existing[key],
                    new_value=value,
                )
        new = [
            {"run_id": run_id, "key": k, "value": v} for k, v in params.items() if k not in existing
        ]
        if new:
            session.execute(_insert(session, RunParam).values(new).on_conflict_do_nothing())

    def _set_tags(self, session: Session, run_id: str, tags: dict[str, str]) -> None:
        if not tags:
            return
        rows = [{"run_id": run_id, "key": k, "value": str(v)} for k, v in tags.items()]
        stmt = _insert(session, RunTag).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
        )
        session.execute(stmt)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.store.session() as session:
            session.execute(delete(RunTag).where(RunTag.run_id == run_id, RunTag.key == key))
            session.commit()

    def _log_metrics(self, session: Session, run_id: str, points: Sequence[Point]) -> None:
        latest: dict[str, Point] = {}
        rows = []
        for point in points:
            key, value, step, stamp = point
            value = float(value)
            rows.append((run_id, key, None if math.isnan(value) else value, step, stamp))
            best = latest.get(key)
            if best is None or (step, stamp) >= (best[2], best[3]):
                latest[key] = (key, value, step, stamp)
        # The DB-API's executemany straight away: building 100k ORM or Core parameter dicts costs
        # more than the insert itself.
        connection = session.connection()
        columns = "run_id, key, value, step, timestamp_ms"
        if connection.dialect.name == "postgresql":
            # COPY: several times faster than a multi-row INSERT, in the same transaction.
            driver: Any = connection.connection.driver_connection
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {RunMetric.__tablename__} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            connection.exec_driver_sql(
                f"INSERT INTO {RunMetric.__tablename__} ({columns}) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        by_key: dict[str, tuple[list[float | None], list[int], list[int]]] = {}
        for _, key, stored, step, stamp in rows:
            columns_of = by_key.setdefault(key, ([], [], []))
            columns_of[0].append(stored)
            columns_of[1].append(step)
            columns_of[2].append(stamp)
        for key, (values, steps, stamps) in by_key.items():
            metric_summary.add_points(connection, run_id, key, values, steps, stamps)
        for key, value, step, stamp in latest.values():
            stmt = _insert(session, LatestMetric).values(
                run_id=run_id,
                key=key,
                value=nan_to_none(value),
                step=step,
                timestamp_ms=stamp,
            )
            current = LatestMetric.__table__.c
            stmt = stmt.on_conflict_do_update(
                index_elements=["run_id", "key"],
                set_={
                    "value": stmt.excluded.value,
                    "step": stmt.excluded.step,
                    "timestamp_ms": stmt.excluded.timestamp_ms,
                },
                where=or_(
                    stmt.excluded.step > current.step,
                    and_(
                        stmt.excluded.step == current.step,
                        stmt.excluded.timestamp_ms >= current.timestamp_ms,
                    ),
                ),
            )
            session.execute(stmt)

    def metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        """Every point of one metric, by step then timestamp; with `max_points`, at most about
        that many: from the metric's pre-aggregated summary (`vigil.tracking.metric_summary`)
        when the history is long, else chosen by `downsample_indices`; spikes survive."""
        return [
            MetricPoint(key=key, value=none_to_nan(v), step=s, timestamp_ms=t)
            for v, s, t in self.metric_history_rows(run_id, key, max_points)
        ]

    def metric_history_rows(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[tuple[float | None, int, int]]:
        """`metric_history` as (value, step, timestamp_ms) tuples, NaN as None: what the HTTP
        route serialises straight to JSON (a million validated models cost seconds)."""
        with self.store.session() as session:
            self._run(session, run_id)
            connection = session.connection()
            if max_points is not None:
                if max_points < 2:
                    raise InvalidInputError(f"max_points must be at least 2, got {max_points}")
                summary = metric_summary.downsampled(connection, run_id, key, max_points)
                if summary is not None:
                    return [(v, s, t) for v, s, t in summary]
            mark = "?" if connection.dialect.name == "sqlite" else "%s"
            # The driver's tuples straight away: SQLAlchemy's row processing costs seconds on
            # a history of a million points.
            cursor = connection.exec_driver_sql(
                f"SELECT value, step, timestamp_ms FROM {RunMetric.__tablename__} "
                f"WHERE run_id = {mark} AND key = {mark} ORDER BY step, timestamp_ms, id",
                (run_id, key),
            )
            rows: list[Any] = list(cursor.cursor.fetchall()) if cursor.cursor else []
            cursor.close()
        if max_points is not None and len(rows) > max_points:
            values = np.fromiter(
                (np.nan if r[0] is None else r[0] for r in rows), dtype=np.float64, count=len(rows)
            )
            rows = [rows[i] for i in downsample_indices(values, max_points)]
        return rows

    # artifacts --------------------------------------------------------------------------------

    def put_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut:
        """Store `data` as the run's artifact `path`; the artifact-store key is chosen here."""
        check_artifact_path(path)
        key = f"runs/{run_id}/{uuid.uuid4().hex}"
        digest = hashlib.sha256(data).hexdigest()
        with self.store.session() as session:
            self._run(session, run_id)
            replaced = session.scalar(
                select(RunArtifact.key)
                .where(RunArtifact.run_id == run_id, RunArtifact.path == path)
                .with_for_update()
            )
            self.store.artifacts.put(key, data)
            stmt = _insert(session, RunArtifact).values(
                run_id=run_id,
                path=path,
                key=key,
                size=len(data),
                sha256=digest,
                created_at=dt.datetime.now(dt.UTC),
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["run_id", "path"],
                set_={
                    "key": stmt.excluded.key,
                    "size": stmt.excluded.size,
                    "sha256": stmt.excluded.sha256,
                    "created_at": stmt.excluded.created_at,
                },
            )
            session.execute(stmt)
            session.commit()
        if replaced is not None and replaced != key:
            # After the commit: a reader holding the old name re-reads it (`read_current`).
            self.store.artifacts.delete(replaced)
        return ArtifactOut(run_id=run_id, path=path, key=key, size=len(data), sha256=digest)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactOut]:
        with self.store.session() as session:
            self._run(session, run_id)
            query = select(RunArtifact).where(RunArtifact.run_id == run_id)
            if prefix:
                query = query.where(RunArtifact.path.startswith(prefix.rstrip("/") + "/"))
            rows = session.scalars(query.order_by(RunArtifact.path)).all()
            return [
                ArtifactOut(run_id=r.run_id, path=r.path, key=r.key, size=r.size, sha256=r.sha256)
                for r in rows
            ]

    def get_artifact(self, run_id: str, path: str) -> bytes:
        def current_key() -> str | None:
            with self.store.session() as session:
                row = session.get(RunArtifact, (run_id, path))
                return None if row is None else row.key

        data = read_current(self.store.artifacts, current_key)
        if data is None:
            raise NotFoundError(f"run {run_id} has no artifact {path!r}", path=path)
        return data

    # search -----------------------------------------------------------------------------------

    def search_runs(
        self,
        experiments: Sequence[str | int] | None = None,
        filter_string: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        actor: str | None = None,
    ) -> RunsPage:
        """Runs of these experiments (names or ids; all when None) matching the filter (and
        started by `actor` when given)."""
        if not 1 <= max_results <= MAX_SEARCH_RESULTS:
            raise InvalidInputError(
                f"max_results must be 1 to {MAX_SEARCH_RESULTS}, got {max_results}"
            )
        offset = decode_page_token(page_token)
        with self.store.session() as session:
            ids: list[int] | None = None
            # One experiment by name (the common case) is matched inside the search query, and
            # looked up on its own only when nothing matched (to say whether it exists): one
            # round trip less.
            named = (
                experiments[0]
                if experiments is not None
                and len(experiments) == 1
                and isinstance(experiments[0], str)
                else None
            )
            if experiments is not None and named is None:
                ids = []
                for ref in experiments:
                    row = self._experiment(session, ref)
                    if row is None:
                        raise NotFoundError(f"no experiment {ref!r}", experiment=str(ref))
                    ids.append(row.id)
            query = runs_query(ids, filter_string, list(order_by or []))
            if named is not None:
                query = query.where(
                    Run.experiment_id
                    == select(Experiment.id).where(Experiment.name == named).scalar_subquery()
                )
            if actor is not None:
                query = query.where(Run.owner == actor)
            rows = list(session.scalars(query.offset(offset).limit(max_results + 1)).unique())
            if named is not None and not rows and self._experiment(session, named) is None:
                raise NotFoundError(f"no experiment {named!r}", experiment=named)
            more = len(rows) > max_results
            rows = rows[:max_results]
            runs = self.hydrate(session, rows)
        token = encode_page_token(offset + max_results) if more else None
        return RunsPage(runs=runs, next_page_token=token)

    def compare_runs(self, run_ids: Sequence[str]) -> RunComparison:
        """Metrics (latest values) and params of the runs side by side."""
        runs = self.get_runs(list(run_ids))
        metric_keys = sorted({k for r in runs for k in r.metrics})
        param_keys = sorted({k for r in runs for k in r.params})
        metrics = {
            k: {r.id: nan_to_none(r.metrics[k]) if k in r.metrics else None for r in runs}
            for k in metric_keys
        }
        params = {k: {r.id: r.params.get(k) for r in runs} for k in param_keys}
        differences = [k for k, values in params.items() if len(set(values.values())) > 1]
        return RunComparison(
            run_ids=[r.id for r in runs],
            metrics=metrics,
            params=params,
            param_differences=differences,
        )

    def log_dataset(
        self, run_id: str, data_or_path: Any, name: str, context: str, *, owner: str = ""
    ) -> DatasetVersionOut:
        """A version of the data (see `vigil.tracking.datasets`), linked to the run."""
        from vigil.tracking.datasets import DatasetService

        datasets = DatasetService(self.store)
        version = datasets.add(data_or_path, name, owner=owner)
        datasets.link_run(run_id, version.id, context)
        return version

    def close(self) -> None:
        """Close the store (for the owner of the store only)."""
        self.store.close()

    def rename_run(self, run_id: str, name: str) -> None:
        with self.store.session() as session:
            session.execute(update(Run).where(Run.id == run_id).values(name=name))
            session.commit()


def downsample_indices(values: npt.NDArray[np.float64], max_points: int) -> list[int]:
    """Indices of at most about `max_points` of `values` for a chart: the values are cut into
    `max_points // 2` buckets of consecutive points, and each bucket keeps its lowest and
    highest value (in their order), so spikes survive where averaging or striding would hide
    them. A bucket of only NaN keeps its first point."""
    if max_points < 2:
        raise InvalidInputError(f"max_points must be at least 2, got {max_points}")
    n = len(values)
    if n <= max_points:
        return list(range(n))
    n_buckets = max_points // 2
    edges = np.linspace(0, n, n_buckets + 1).astype(np.int64)
    starts = edges[:-1]
    nonempty = edges[1:] > starts
    starts = starts[nonempty]
    filled_low = np.where(np.isnan(values), np.inf, values)
    filled_high = np.where(np.isnan(values), -np.inf, values)
    kept: list[int] = []
    lows = np.minimum.reduceat(filled_low, starts)
    highs = np.maximum.reduceat(filled_high, starts)
    stops = np.append(starts[1:], n)
    for start, stop, low, high in zip(starts, stops, lows, highs, strict=True):
        if np.isinf(low) and np.isinf(high) and low > 0:  # only NaN in this bucket
            kept.append(int(start))
            continue
        chunk_low = filled_low[start:stop]
        chunk_high = filled_high[start:stop]
        i_low = int(start + np.argmin(chunk_low))
        i_high = int(start + np.argmax(chunk_high))
        kept.extend(sorted({i_low, i_high}))
    return kept


def downsample(points: list[MetricPoint], max_points: int) -> list[MetricPoint]:
    """`points` thinned by `downsample_indices`."""
    values = np.array([p.value for p in points], dtype=np.float64)
    return [points[i] for i in downsample_indices(values, max_points)]
