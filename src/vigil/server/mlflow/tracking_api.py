"""MLflow's tracking API (experiments, runs, params, metrics, tags, search, logged models) on
Vigil's tracking tables, through `vigil.tracking.service.TrackingService` where it has the
operation. Everything MLflow writes is an ordinary Vigil experiment or run, and the other way
round: run ids are the same, experiment ids are Vigil's integers as strings, statuses are
upper-cased, and the proxied artifact folder of a run is `<experiment id>/<run id>/artifacts`.

Every public method takes the request's fields (a mapping) and returns the response's JSON.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.api.tracking import RunStatus
from vigil.errors import ConflictError, InvalidInputError
from vigil.ranges import INT64_MAX, INT64_MIN, int64
from vigil.server.mlflow import filters
from vigil.server.mlflow.errors import exists, invalid, missing
from vigil.server.mlflow.identity import run_tags, tag_updates
from vigil.server.mlflow.wire import (
    RUN_STATUSES,
    Payload,
    float_out,
    integer,
    key_values,
    number,
    optional_text,
    pairs,
    strings,
    text,
    time_ms,
)
from vigil.store.core import Store
from vigil.store.mlflow_tables import MlflowLoggedModel
from vigil.store.tracking_tables import (
    Experiment,
    ExperimentTag,
    LatestMetric,
    Run,
    RunParam,
    RunTag,
)
from vigil.tracking.search import (
    compare,
    decode_page_token,
    encode_page_token,
    runs_query,
)
from vigil.tracking.service import TrackingService, now_ms

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
RUN_NAME_TAG = "mlflow.runName"
VIEW_TYPES = {
    "ACTIVE_ONLY": ("active",),
    "DELETED_ONLY": ("deleted",),
    "ALL": ("active", "deleted"),
}
LOGGED_MODEL_STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


def experiment_artifact_uri(experiment_id: int) -> str:
    return f"mlflow-artifacts:/{experiment_id}"


def run_artifact_folder(experiment_id: int, run_id: str) -> str:
    """The run's folder in the proxied artifact tree."""
    return f"{experiment_id}/{run_id}/artifacts"


def to_mlflow_status(status: str) -> str:
    return status.upper()


def from_mlflow_status(status: str) -> RunStatus:
    upper = status.upper()
    if upper not in RUN_STATUSES:
        raise invalid(f"run status {status!r} is not one of {', '.join(RUN_STATUSES)}")
    return RunStatus.RUNNING if upper == "SCHEDULED" else RunStatus(upper.lower())


def experiment_id_of(body: Payload, name: str = "experiment_id") -> int:
    raw = text(body, name)
    try:
        return int64(int(raw), name)
    except (ValueError, InvalidInputError):  # not a number, or one no experiment can have
        raise missing(f"No Experiment with id={raw} exists", experiment_id=raw) from None


class MlflowTracking:
    """MLflow's tracking operations on a Vigil store, on behalf of `user` (the token's owner)."""

    def __init__(self, store: Store, user: str) -> None:
        self.store = store
        self.user = user
        self.service = TrackingService(store)

    # experiments ------------------------------------------------------------------------------

    def _experiment(self, session: Session, experiment_id: int) -> Experiment:
        row = session.get(Experiment, experiment_id)
        if row is None and experiment_id == DEFAULT_EXPERIMENT_ID:
            row = self._default_experiment(session)
        if row is None:
            raise missing(f"No Experiment with id={experiment_id} exists")
        return row

    def _default_experiment(self, session: Session) -> Experiment:
        """MLflow's "Default" experiment, id 0, made on first use (runs started without an
        experiment go there)."""
        name = DEFAULT_EXPERIMENT_NAME
        if session.scalars(select(Experiment).where(Experiment.name == name)).first() is not None:
            name = f"{DEFAULT_EXPERIMENT_NAME} (mlflow)"
        stamp = now_ms()
        row = Experiment(
            id=DEFAULT_EXPERIMENT_ID,
            name=name,
            artifact_location="experiments/0",
            lifecycle_stage="active",
            owner=self.user,
            created_ms=stamp,
            updated_ms=stamp,
        )
        session.add(row)
        session.flush()
        return row

    def _experiment_json(self, session: Session, row: Experiment) -> dict[str, Any]:
        tags = dict(
            session.execute(
                select(ExperimentTag.key, ExperimentTag.value).where(
                    ExperimentTag.experiment_id == row.id
                )
            ).all()
        )
        return {
            "experiment_id": str(row.id),
            "name": row.name,
            "artifact_location": experiment_artifact_uri(row.id),
            "lifecycle_stage": row.lifecycle_stage,
            "last_update_time": row.updated_ms,
            "creation_time": row.created_ms,
            "tags": pairs(tags),
        }

    def create_experiment(self, body: Payload) -> dict[str, Any]:
        name = text(body, "name")
        try:
            created = self.service.create_experiment(name, owner=self.user)
        except ConflictError:
            raise exists(f"Experiment(name={name}) already exists.", experiment=name) from None
        tags = key_values(body, "tags")
        if tags:
            with self.store.session() as session:
                for key, value in tags.items():
                    session.merge(ExperimentTag(experiment_id=created.id, key=key, value=value))
                session.commit()
        return {"experiment_id": str(created.id)}

    def get_experiment(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            row = self._experiment(session, experiment_id_of(body))
            out = self._experiment_json(session, row)
            session.commit()
            return {"experiment": out}

    def get_experiment_by_name(self, body: Payload) -> dict[str, Any]:
        name = text(body, "experiment_name")
        with self.store.session() as session:
            row = session.scalars(select(Experiment).where(Experiment.name == name)).first()
            if row is None:
                raise missing(f"Could not find experiment with name '{name}'", experiment=name)
            return {"experiment": self._experiment_json(session, row)}

    def search_experiments(self, body: Payload) -> dict[str, Any]:
        max_results = integer(body, "max_results", 1000) or 1000
        if not 1 <= max_results <= 50_000:
            raise invalid(f"max_results must be 1 to 50000, got {max_results}")
        offset = decode_page_token(optional_text(body, "page_token"))
        stages = VIEW_TYPES.get(str(body.get("view_type") or "ACTIVE_ONLY").upper())
        if stages is None:
            raise invalid(f"view_type {body.get('view_type')!r} is not one of {list(VIEW_TYPES)}")
        columns = {
            "name": Experiment.name,
            "experiment_id": Experiment.id,
            "creation_time": Experiment.created_ms,
            "last_update_time": Experiment.updated_ms,
        }

        def tag(key: str, op: str, value: Any) -> Any:
            return Experiment.id.in_(
                select(ExperimentTag.experiment_id).where(
                    ExperimentTag.key == key, compare(ExperimentTag.value, op, value)
                )
            )

        condition = filters.compile_simple(
            filters.parse_simple(optional_text(body, "filter")),
            columns,
            tag=tag,
            what="experiments",
        )
        query = select(Experiment).where(Experiment.lifecycle_stage.in_(stages), condition)
        for clause in strings(body, "order_by") or ["last_update_time DESC"]:
            parts = clause.split()
            column = columns.get(parts[0].split(".")[-1].lower()) if parts else None
            if column is None:
                raise invalid(f"cannot order experiments by {clause!r}")
            descending = len(parts) > 1 and parts[1].lower() == "desc"
            query = query.order_by(column.desc() if descending else column.asc())
        query = query.order_by(Experiment.id)
        with self.store.session() as session:
            rows = list(session.scalars(query.offset(offset).limit(max_results + 1)))
            out: dict[str, Any] = {
                "experiments": [self._experiment_json(session, r) for r in rows[:max_results]]
            }
        if len(rows) > max_results:
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out

    def update_experiment(self, body: Payload) -> dict[str, Any]:
        new_name = optional_text(body, "new_name")
        with self.store.session() as session:
            row = self._experiment(session, experiment_id_of(body))
            if new_name:
                taken = session.scalars(select(Experiment).where(Experiment.name == new_name))
                if any(r.id != row.id for r in taken):
                    raise exists(f"Experiment(name={new_name}) already exists.")
                row.name = new_name
            row.updated_ms = now_ms()
            session.commit()
        return {}

    def set_experiment_lifecycle(self, body: Payload, stage: str) -> dict[str, Any]:
        with self.store.session() as session:
            row = self._experiment(session, experiment_id_of(body))
            row.lifecycle_stage = stage
            row.updated_ms = now_ms()
            session.execute(
                update(Run).where(Run.experiment_id == row.id).values(lifecycle_stage=stage)
            )
            session.commit()
        return {}

    def set_experiment_tag(self, body: Payload) -> dict[str, Any]:
        key, value = text(body, "key"), text(body, "value", default="")
        with self.store.session() as session:
            row = self._experiment(session, experiment_id_of(body))
            session.merge(ExperimentTag(experiment_id=row.id, key=key, value=value))
            session.commit()
        return {}

    def delete_experiment_tag(self, body: Payload) -> dict[str, Any]:
        key = text(body, "key")
        with self.store.session() as session:
            row = self._experiment(session, experiment_id_of(body))
            session.execute(
                delete(ExperimentTag).where(
                    ExperimentTag.experiment_id == row.id, ExperimentTag.key == key
                )
            )
            session.commit()
        return {}

    # runs -------------------------------------------------------------------------------------

    def _run(self, session: Session, body: Payload) -> Run:
        run_id = str(body.get("run_id") or body.get("run_uuid") or "")
        if not run_id:
            raise invalid("Missing value for required parameter 'run_id'.")
        row = session.get(Run, run_id)
        if row is None:
            raise missing(f"Run with id={run_id} not found", run_id=run_id)
        return row

    @staticmethod
    def runs_json(session: Session, rows: Sequence[Run]) -> list[dict[str, Any]]:
        """Runs in MLflow's shape: info, data (latest metrics, params, tags), outputs."""
        ids = [r.id for r in rows]
        params: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
        tags: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
        metrics: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        outputs: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for p in session.scalars(select(RunParam).where(RunParam.run_id.in_(ids))):
                params[p.run_id].append({"key": p.key, "value": p.value})
            for t in session.scalars(select(RunTag).where(RunTag.run_id.in_(ids))):
                tags[t.run_id].append({"key": t.key, "value": t.value})
            for m in session.scalars(select(LatestMetric).where(LatestMetric.run_id.in_(ids))):
                metrics[m.run_id].append(
                    {
                        "key": m.key,
                        "value": float_out(m.value),
                        "timestamp": m.timestamp_ms,
                        "step": m.step,
                    }
                )
            logged = select(MlflowLoggedModel.id, MlflowLoggedModel.source_run_id).where(
                MlflowLoggedModel.source_run_id.in_(ids)
            )
            for model_id, run_id in session.execute(logged):
                if run_id is not None:
                    outputs[run_id].append({"model_id": model_id, "step": 0})
        out = []
        for r in rows:
            info = {
                "run_id": r.id,
                "run_uuid": r.id,
                "run_name": r.name,
                "experiment_id": str(r.experiment_id),
                "user_id": r.owner,
                "status": to_mlflow_status(r.status),
                "start_time": r.start_ms,
                "artifact_uri": "mlflow-artifacts:/" + run_artifact_folder(r.experiment_id, r.id),
                "lifecycle_stage": r.lifecycle_stage,
            }
            if r.end_ms is not None:
                info["end_time"] = r.end_ms
            out.append(
                {
                    "info": info,
                    "data": {
                        "metrics": sorted(metrics[r.id], key=lambda m: m["key"]),
                        "params": sorted(params[r.id], key=lambda p: p["key"]),
                        "tags": sorted(tags[r.id], key=lambda t: t["key"]),
                    },
                    "inputs": {},
                    "outputs": {"model_outputs": outputs[r.id]},
                }
            )
        return out

    def _run_json(self, run_id: str) -> dict[str, Any]:
        with self.store.session() as session:
            row = session.get(Run, run_id)
            if row is None:
                raise missing(f"Run with id={run_id} not found", run_id=run_id)
            return self.runs_json(session, [row])[0]

    def create_run(self, body: Payload) -> dict[str, Any]:
        experiment_id = experiment_id_of(body)
        tags = run_tags(self.user, key_values(body, "tags"), optional_text(body, "user_id"))
        name = optional_text(body, "run_name") or tags.get(RUN_NAME_TAG, "")
        with self.store.session() as session:
            experiment = self._experiment(session, experiment_id)
            if experiment.lifecycle_stage != "active":
                raise invalid(
                    f"The experiment {experiment_id} must be in the 'active' state; it is "
                    f"'{experiment.lifecycle_stage}'"
                )
            session.commit()
        parent = tags.get("mlflow.parentRunId")
        info = self.service.create_run(
            experiment_id,
            name=name,
            owner=self.user,
            parent_id=parent if parent and self._exists(parent) else None,
            tags=tags,
            start_ms=time_ms(body, "start_time"),
        )
        if RUN_NAME_TAG not in tags:
            self.service.log_batch(info.id, tags={RUN_NAME_TAG: info.name})
        return {"run": self._run_json(info.id)}

    def _exists(self, run_id: str) -> bool:
        with self.store.session() as session:
            return session.get(Run, run_id) is not None

    def get_run(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            row = self._run(session, body)
            return {"run": self.runs_json(session, [row])[0]}

    def update_run(self, body: Payload) -> dict[str, Any]:
        status = optional_text(body, "status")
        end_ms = time_ms(body, "end_time")
        name = optional_text(body, "run_name")
        with self.store.session() as session:
            row = self._run(session, body)
            if status:
                row.status = from_mlflow_status(status).value
            if end_ms is not None:
                row.end_ms = end_ms
            elif status and row.status != RunStatus.RUNNING.value and row.end_ms is None:
                row.end_ms = now_ms()
            if name:
                row.name = name
            run_id = row.id
            session.commit()
        if name:
            self.service.log_batch(run_id, tags={RUN_NAME_TAG: name})
        return {"run_info": self._run_json(run_id)["info"]}

    def set_run_lifecycle(self, body: Payload, stage: str) -> dict[str, Any]:
        with self.store.session() as session:
            row = self._run(session, body)
            row.lifecycle_stage = stage
            session.commit()
        return {}

    def log_metric(self, body: Payload) -> dict[str, Any]:
        run_id = self._run_id(body)
        point = (
            text(body, "key"),
            number(body, "value"),
            integer(body, "step", 0) or 0,
            time_ms(body, "timestamp", now_ms()) or now_ms(),
        )
        if body.get("model_id"):
            key, value, step, timestamp = point
            entry = {"key": key, "value": float_out(value), "step": step, "timestamp": timestamp}
            self._add_model_metrics(run_id, {str(body["model_id"]): [entry]})
            return {}
        self.service.log_batch(run_id, metrics=[point])
        return {}

    def log_param(self, body: Payload) -> dict[str, Any]:
        self.service.log_batch(
            self._run_id(body), params={text(body, "key"): text(body, "value", default="")}
        )
        return {}

    def set_tag(self, body: Payload) -> dict[str, Any]:
        run_id = self._run_id(body)
        key, value = text(body, "key"), text(body, "value", default="")
        self.service.log_batch(run_id, tags=tag_updates(self.user, {key: value}))
        if key == RUN_NAME_TAG:
            self.service.rename_run(run_id, value)
        return {}

    def delete_tag(self, body: Payload) -> dict[str, Any]:
        run_id = self._run_id(body)
        key = text(body, "key")
        with self.store.session() as session:
            self._run(session, body)
            if session.get(RunTag, (run_id, key)) is None:
                raise missing(f"No tag with name: {key} in run with id {run_id}", key=key)
        self.service.delete_tag(run_id, key)
        return {}

    def log_batch(self, body: Payload) -> dict[str, Any]:
        run_id = self._run_id(body)
        points = []
        stamp = now_ms()
        model_metrics: dict[str, list[dict[str, Any]]] = {}
        for item in body.get("metrics") or []:
            if not isinstance(item, Mapping):
                raise invalid(f"each metric must be an object, got {item!r}")
            point = (
                text(item, "key"),
                number(item, "value"),
                integer(item, "step", 0) or 0,
                time_ms(item, "timestamp", stamp) or stamp,
            )
            if item.get("model_id"):
                # A run's metric linked to a logged model (MLflow 3 re-sends the run's points
                # when it logs a model): kept on the model, not as new points of the run.
                key, value, step, timestamp = point
                model_metrics.setdefault(str(item["model_id"]), []).append(
                    {"key": key, "value": float_out(value), "step": step, "timestamp": timestamp}
                )
            else:
                points.append(point)
        if model_metrics:
            self._add_model_metrics(run_id, model_metrics)
        tags = tag_updates(self.user, key_values(body, "tags"))
        self.service.log_batch(run_id, metrics=points, params=key_values(body, "params"), tags=tags)
        if RUN_NAME_TAG in tags:
            self.service.rename_run(run_id, tags[RUN_NAME_TAG])
        return {}

    def _add_model_metrics(self, run_id: str, metrics: dict[str, list[dict[str, Any]]]) -> None:
        with self.store.session() as session:
            for model_id, items in metrics.items():
                model = self._logged_model(session, model_id)
                model.metrics = [*model.metrics, *({**m, "run_id": run_id} for m in items)]
            session.commit()

    def log_inputs(self, body: Payload) -> dict[str, Any]:
        """Dataset inputs are kept as run tags `mlflow.input.<name>` = `<digest> <source>`:
        MLflow sends a dataset's description, not its content, so no Vigil dataset version can
        be made of it."""
        run_id = self._run_id(body)
        tags = {}
        for item in body.get("datasets") or []:
            dataset = item.get("dataset") if isinstance(item, Mapping) else None
            if not isinstance(dataset, Mapping):
                raise invalid(f"each dataset input needs a 'dataset', got {item!r}")
            name = text(dataset, "name")
            tags[f"mlflow.input.{name}"[:250]] = (
                f"{dataset.get('digest', '')} {dataset.get('source_type', '')} "
                f"{dataset.get('source', '')}"
            ).strip()
        if tags:
            self.service.log_batch(run_id, tags=tags)
        return {}

    def log_outputs(self, body: Payload) -> dict[str, Any]:
        run_id = self._run_id(body)
        with self.store.session() as session:
            for item in body.get("models") or []:
                model_id = text(item, "model_id") if isinstance(item, Mapping) else ""
                model = session.get(MlflowLoggedModel, model_id)
                if model is None:
                    raise missing(f"Logged model with ID '{model_id}' not found.")
                if model.source_run_id is None:
                    model.source_run_id = run_id
            session.commit()
        return {}

    def _run_id(self, body: Payload) -> str:
        with self.store.session() as session:
            return self._run(session, body).id

    def get_metric_history(self, body: Payload) -> dict[str, Any]:
        run_id = self._run_id(body)
        key = text(body, "metric_key")
        max_results = integer(body, "max_results")
        offset = decode_page_token(optional_text(body, "page_token"))
        points = self.service.metric_history_rows(run_id, key)
        stop = len(points) if max_results is None else offset + max_results
        out: dict[str, Any] = {
            "metrics": [
                {
                    "key": key,
                    "value": float_out(value),
                    "timestamp": timestamp_ms,
                    "step": step,
                    "run_id": run_id,
                }
                for value, step, timestamp_ms in points[offset:stop]
            ]
        }
        if stop < len(points):
            out["next_page_token"] = encode_page_token(stop)
        return out

    def get_metric_history_bulk_interval(self, body: Payload) -> dict[str, Any]:
        run_ids = strings(body, "run_ids")
        if not run_ids:
            raise invalid("Missing value for required parameter 'run_ids'.")
        key = text(body, "metric_key")
        start = integer(body, "start_step")
        end = integer(body, "end_step")
        max_results = integer(body, "max_results", 320) or 320
        metrics: list[dict[str, Any]] = []
        for run_id in run_ids[:100]:
            points = [
                p
                for p in self.service.metric_history_rows(run_id, key)
                if (start is None or p[1] >= start) and (end is None or p[1] <= end)
            ]
            if len(points) > max_results:
                # evenly spaced, always keeping the first and the last point, as MLflow does
                last = len(points) - 1
                picks = sorted({round(i * last / (max_results - 1)) for i in range(max_results)})
                points = [points[i] for i in picks]
            metrics.extend(
                {
                    "key": key,
                    "value": float_out(value),
                    "timestamp": timestamp_ms,
                    "step": step,
                    "run_id": run_id,
                }
                for value, step, timestamp_ms in points
            )
        return {"metrics": metrics}

    def search_runs(self, body: Payload) -> dict[str, Any]:
        experiment_ids = [
            int(e)
            for e in strings(body, "experiment_ids")
            if e.lstrip("-").isdigit() and INT64_MIN <= int(e) <= INT64_MAX
        ]
        stages = VIEW_TYPES.get(str(body.get("run_view_type") or "ACTIVE_ONLY").upper())
        if stages is None:
            raise invalid(f"run_view_type must be one of {list(VIEW_TYPES)}")
        max_results = integer(body, "max_results", 1000) or 1000
        if not 1 <= max_results <= 50_000:
            raise invalid(f"Invalid value {max_results} for parameter 'max_results'")
        offset = decode_page_token(optional_text(body, "page_token"))
        query = runs_query(
            experiment_ids,
            filters.run_filter(optional_text(body, "filter")),
            filters.run_order_by(strings(body, "order_by")),
            stages=stages,
        )
        with self.store.session() as session:
            rows = list(session.scalars(query.offset(offset).limit(max_results + 1)).unique())
            out: dict[str, Any] = {"runs": self.runs_json(session, rows[:max_results])}
        if len(rows) > max_results:
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out

    # logged models (MLflow 3) -----------------------------------------------------------------

    @staticmethod
    def logged_model_json(row: MlflowLoggedModel) -> dict[str, Any]:
        return {
            "info": {
                "model_id": row.id,
                "experiment_id": str(row.experiment_id),
                "name": row.name,
                "creation_timestamp_ms": row.created_ms,
                "last_updated_timestamp_ms": row.updated_ms,
                "artifact_uri": "mlflow-artifacts:/" + row.artifact_path,
                "status": row.status,
                "model_type": row.model_type,
                "source_run_id": row.source_run_id or "",
                "tags": pairs(row.tags),
                "registrations": [],
            },
            "data": {"params": pairs(row.params), "metrics": list(row.metrics)},
        }

    def _logged_model(self, session: Session, model_id: str) -> MlflowLoggedModel:
        row = session.get(MlflowLoggedModel, model_id)
        if row is None:
            raise missing(f"Logged model with ID '{model_id}' not found.", model_id=model_id)
        return row

    def create_logged_model(self, body: Payload) -> dict[str, Any]:
        experiment_id = experiment_id_of(body)
        run_id = optional_text(body, "source_run_id") or None
        model_id = f"m-{uuid.uuid4().hex}"
        stamp = now_ms()
        with self.store.session() as session:
            self._experiment(session, experiment_id)
            if run_id is not None and session.get(Run, run_id) is None:
                raise missing(f"Run with id={run_id} not found", run_id=run_id)
            row = MlflowLoggedModel(
                id=model_id,
                experiment_id=experiment_id,
                name=optional_text(body, "name") or model_id,
                source_run_id=run_id,
                model_type=optional_text(body, "model_type") or "",
                status="LOGGED_MODEL_PENDING",
                artifact_path=f"{experiment_id}/models/{model_id}/artifacts",
                params=key_values(body, "params"),
                tags=key_values(body, "tags"),
                metrics=[],
                created_ms=stamp,
                updated_ms=stamp,
            )
            session.add(row)
            session.commit()
            return {"model": self.logged_model_json(row)}

    def get_logged_model(self, model_id: str) -> dict[str, Any]:
        with self.store.session() as session:
            return {"model": self.logged_model_json(self._logged_model(session, model_id))}

    def finalize_logged_model(self, model_id: str, body: Payload) -> dict[str, Any]:
        status = text(body, "status")
        if status not in LOGGED_MODEL_STATUSES:
            raise invalid(f"status {status!r} is not one of {', '.join(LOGGED_MODEL_STATUSES)}")
        with self.store.session() as session:
            row = self._logged_model(session, model_id)
            row.status = status
            row.updated_ms = now_ms()
            session.commit()
            return {"model": self.logged_model_json(row)}

    def set_logged_model_tags(self, model_id: str, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            row = self._logged_model(session, model_id)
            row.tags = {**row.tags, **key_values(body, "tags")}
            row.updated_ms = now_ms()
            session.commit()
        return {}

    def delete_logged_model_tag(self, model_id: str, key: str) -> dict[str, Any]:
        with self.store.session() as session:
            row = self._logged_model(session, model_id)
            if key not in row.tags:
                raise missing(f"No tag with key {key!r} on logged model {model_id}")
            row.tags = {k: v for k, v in row.tags.items() if k != key}
            session.commit()
        return {}

    def delete_logged_model(self, model_id: str) -> dict[str, Any]:
        with self.store.session() as session:
            session.delete(self._logged_model(session, model_id))
            session.commit()
        return {}

    def search_logged_models(self, body: Payload) -> dict[str, Any]:
        experiment_ids = [
            int(e) for e in strings(body, "experiment_ids") if e.isdigit() and int(e) <= INT64_MAX
        ]
        max_results = integer(body, "max_results", 100) or 100
        offset = decode_page_token(optional_text(body, "page_token"))
        columns = {
            "name": MlflowLoggedModel.name,
            "model_id": MlflowLoggedModel.id,
            "source_run_id": MlflowLoggedModel.source_run_id,
            "status": MlflowLoggedModel.status,
            "model_type": MlflowLoggedModel.model_type,
            "creation_timestamp": MlflowLoggedModel.created_ms,
            "creation_time": MlflowLoggedModel.created_ms,
        }
        condition = filters.compile_simple(
            filters.parse_simple(optional_text(body, "filter")), columns, what="logged models"
        )
        query = select(MlflowLoggedModel).where(condition)
        if experiment_ids:
            query = query.where(MlflowLoggedModel.experiment_id.in_(experiment_ids))
        query = query.order_by(MlflowLoggedModel.created_ms.desc(), MlflowLoggedModel.id)
        with self.store.session() as session:
            rows = list(session.scalars(query.offset(offset).limit(max_results + 1)))
            out: dict[str, Any] = {
                "models": [self.logged_model_json(r) for r in rows[:max_results]]
            }
        if len(rows) > max_results:
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out
