"""MLflow's tracking API (experiments, runs, params, metrics, tags, search, logged models) on
Vigil's tracking tables, through `vigil.tracking.service.TrackingService` where it has the
operation. Everything MLflow writes is an ordinary Vigil experiment or run, and the other way
round: run ids are the same, experiment ids are Vigil's integers as strings, statuses are
upper-cased, and the proxied artifact folder of a run is `<experiment id>/<run id>/artifacts`.

Every public method takes the request's fields (a mapping) and returns the response's JSON. The
runs are here; the experiment operations in `experiments_api`, MLflow 3's logged models in
`logged_models_api` (`MlflowTracking` has them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.api.tracking import RunStatus
from vigil.ranges import INT64_MAX, INT64_MIN
from vigil.server.mlflow import filters
from vigil.server.mlflow.errors import invalid, missing
from vigil.server.mlflow.experiments_api import VIEW_TYPES, experiment_id_of
from vigil.server.mlflow.identity import run_tags, tag_updates
from vigil.server.mlflow.inputs import inputs_json
from vigil.server.mlflow.inputs import log_inputs as add_inputs
from vigil.server.mlflow.logged_models_api import MlflowLoggedModels
from vigil.server.mlflow.wire import (
    RUN_STATUSES,
    Payload,
    float_out,
    integer,
    key_values,
    number,
    optional_text,
    strings,
    text,
    time_ms,
)
from vigil.store.mlflow_tables import MlflowLoggedModel
from vigil.store.tracking_tables import (
    LatestMetric,
    Run,
    RunParam,
    RunTag,
)
from vigil.tracking.checks import Point, now_ms
from vigil.tracking.metrics import unrecorded, write_points
from vigil.tracking.search import (
    decode_page_token,
    encode_page_token,
    runs_query,
)

RUN_NAME_TAG = "mlflow.runName"


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


class MlflowTracking(MlflowLoggedModels):
    """MLflow's tracking operations on a Vigil store, on behalf of `user` (the token's owner)."""

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
        inputs = inputs_json(session, ids)
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
                    "inputs": inputs[r.id],
                    "outputs": {"model_outputs": outputs[r.id]},
                }
            )
        return out

    def _run_json(self, run_id: str) -> dict[str, Any]:
        with self.store.read_session() as session:
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
        with self.store.read_session() as session:
            return session.get(Run, run_id) is not None

    def get_run(self, body: Payload) -> dict[str, Any]:
        with self.store.read_session() as session:
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
        model_id = optional_text(body, "model_id")
        if model_id:
            self._log_model_points(run_id, {model_id: [point]})
        else:
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
        model_points: dict[str, list[Point]] = {}
        for item in body.get("metrics") or []:
            if not isinstance(item, Mapping):
                raise invalid(f"each metric must be an object, got {item!r}")
            point = (
                text(item, "key"),
                number(item, "value"),
                integer(item, "step", 0) or 0,
                time_ms(item, "timestamp", stamp) or stamp,
            )
            model_id = optional_text(item, "model_id")
            if model_id:
                model_points.setdefault(model_id, []).append(point)
            else:
                points.append(point)
        if model_points:
            self._log_model_points(run_id, model_points)
        tags = tag_updates(self.user, key_values(body, "tags"))
        self.service.log_batch(run_id, metrics=points, params=key_values(body, "params"), tags=tags)
        if RUN_NAME_TAG in tags:
            self.service.rename_run(run_id, tags[RUN_NAME_TAG])
        return {}

    def _log_model_points(self, run_id: str, by_model: dict[str, list[Point]]) -> None:
        """Points logged for logged models (MLflow 3: `model_id` on a metric) are points of the
        run and metrics of each model, in one transaction. MLflow re-sends a run's points when it
        logs a model, so a point the run or the model already has is not added again."""
        with self.store.session() as session:
            for model_id, points in by_model.items():
                model = self._logged_model(session, model_id)
                have = {
                    (m["key"], m["step"], m["timestamp"], m.get("run_id")) for m in model.metrics
                }
                added = [
                    {"key": k, "value": float_out(v), "step": s, "timestamp": t, "run_id": run_id}
                    for k, v, s, t in points
                    if (k, s, t, run_id) not in have
                ]
                if added:
                    model.metrics = [*model.metrics, *added]
            everything = [p for points in by_model.values() for p in points]
            fresh = unrecorded(session, run_id, everything)
            if fresh:
                write_points(session, run_id, fresh)
            session.commit()

    def log_inputs(self, body: Payload) -> dict[str, Any]:
        """The datasets and logged models the run used (see `vigil.server.mlflow.inputs`)."""
        with self.store.session() as session:
            run_id = self._run(session, body).id
            add_inputs(session, run_id, body)
            session.commit()
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
        with self.store.read_session() as session:
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
        with self.store.read_session() as session:
            rows = list(session.scalars(query.offset(offset).limit(max_results + 1)).unique())
            out: dict[str, Any] = {"runs": self.runs_json(session, rows[:max_results])}
        if len(rows) > max_results:
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out
