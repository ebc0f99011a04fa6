"""Tracking operations on the store: experiments, runs, params, tags, metrics and artifacts.

`TrackingService` is what a `Run` writes through in local mode (and what the server's routers call).
Metrics are written in bulk (`vigil.tracking.metrics`): one multi-row INSERT per batch, plus one
upsert per metric key into `latest_metrics` that only moves forward (a higher step, or the same
step and a later timestamp). What a run may log is checked in `vigil.tracking.checks`; rows become
API values in `vigil.tracking.rows`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
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
    none_to_nan,
)
from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.store.artifacts import read_current
from vigil.store.core import Store
from vigil.store.sql import insert_for
from vigil.store.tracking_tables import Experiment, Run, RunArtifact, RunParam, RunTag
from vigil.tracking.checks import (
    MAX_PARAM_LENGTH,
    Point,
    check_artifact_path,
    check_key,
    now_ms,
)
from vigil.tracking.datasets import DatasetService
from vigil.tracking.metrics import history_rows, write_points
from vigil.tracking.rows import experiment_out, hydrate, run_info
from vigil.tracking.search import decode_page_token, encode_page_token, runs_query

__all__ = [
    "MAX_SEARCH_RESULTS",
    "Point",
    "TrackingService",
    "check_artifact_path",
    "check_key",
    "now_ms",
]

MAX_SEARCH_RESULTS = 50_000


class TrackingService:
    """Experiments and runs in a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # experiments ----------------------------------------------------------------------------

    def get_experiment(self, name_or_id: str | int) -> ExperimentOut:
        with self.store.read_session() as session:
            row = self._experiment(session, name_or_id)
            if row is None:
                raise NotFoundError(
                    f"no experiment {name_or_id!r}; create it with start_run(experiment=...)",
                    experiment=str(name_or_id),
                )
            return experiment_out(row)

    def find_experiment(self, name_or_id: str | int) -> ExperimentOut | None:
        with self.store.read_session() as session:
            row = self._experiment(session, name_or_id)
            return None if row is None else experiment_out(row)

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
            return experiment_out(row)

    def ensure_experiment(self, name: str, *, owner: str = "") -> ExperimentOut:
        found = self.find_experiment(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name, owner=owner)
        except (ConflictError, IntegrityError):  # created by another process meanwhile
            return self.get_experiment(name)

    def list_experiments(self) -> list[ExperimentOut]:
        with self.store.read_session() as session:
            rows = session.scalars(select(Experiment).order_by(Experiment.id)).all()
            return [experiment_out(r) for r in rows]

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
        with self.store.read_session() as session:
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
        with self.store.read_session() as session:
            rows = {r.id: r for r in session.scalars(select(Run).where(Run.id.in_(run_ids)))}
            for run_id in run_ids:
                if run_id not in rows:
                    raise NotFoundError(f"no run {run_id!r}", run_id=run_id)
            return hydrate(session, [rows[i] for i in run_ids])

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
                write_points(session, run_id, metrics)
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
            session.execute(insert_for(session, RunParam).values(new).on_conflict_do_nothing())

    def _set_tags(self, session: Session, run_id: str, tags: dict[str, str]) -> None:
        if not tags:
            return
        rows = [{"run_id": run_id, "key": k, "value": str(v)} for k, v in tags.items()]
        stmt = insert_for(session, RunTag).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
        )
        session.execute(stmt)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.store.session() as session:
            session.execute(delete(RunTag).where(RunTag.run_id == run_id, RunTag.key == key))
            session.commit()

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
        with self.store.read_session() as session:
            self._run(session, run_id)
            return history_rows(session.connection(), run_id, key, max_points)

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
            stmt = insert_for(session, RunArtifact).values(
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
        with self.store.read_session() as session:
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
            with self.store.read_session() as session:
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
        with self.store.read_session() as session:
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
            runs = hydrate(session, rows)
        token = encode_page_token(offset + max_results) if more else None
        return RunsPage(runs=runs, next_page_token=token)

    def compare_runs(self, run_ids: Sequence[str]) -> RunComparison:
        """Metrics (latest values) and params of the runs side by side."""
        return RunComparison.of(self.get_runs(list(run_ids)))

    def log_dataset(
        self, run_id: str, data_or_path: Any, name: str, context: str, *, owner: str = ""
    ) -> DatasetVersionOut:
        """A version of the data (see `vigil.tracking.datasets`), linked to the run."""
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
