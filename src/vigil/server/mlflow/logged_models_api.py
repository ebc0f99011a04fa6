"""MLflow 3's logged models (create, get, finalize, tags, delete, search), kept in Vigil's
`mlflow_logged_models` table; each belongs to an experiment and may name the run it came from.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.ranges import INT64_MAX
from vigil.server.mlflow import filters
from vigil.server.mlflow.errors import invalid, missing
from vigil.server.mlflow.experiments_api import MlflowExperiments, experiment_id_of
from vigil.server.mlflow.wire import (
    Payload,
    integer,
    key_values,
    optional_text,
    pairs,
    strings,
    text,
)
from vigil.store.mlflow_tables import MlflowLoggedModel
from vigil.store.tracking_tables import Run
from vigil.tracking.checks import now_ms
from vigil.tracking.search import decode_page_token, encode_page_token

LOGGED_MODEL_STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


class MlflowLoggedModels(MlflowExperiments):
    """MLflow's logged-model operations (and its experiment operations, which they build on)."""

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
        with self.store.read_session() as session:
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
        with self.store.read_session() as session:
            rows = list(session.scalars(query.offset(offset).limit(max_results + 1)))
            out: dict[str, Any] = {
                "models": [self.logged_model_json(r) for r in rows[:max_results]]
            }
        if len(rows) > max_results:
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out
