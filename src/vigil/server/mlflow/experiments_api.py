"""MLflow's experiment operations (create, get, search, update, delete and restore, tags) on
Vigil's experiments. Experiment ids are Vigil's integers as strings; MLflow's "Default"
experiment (id 0) is made on first use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.errors import ConflictError, InvalidInputError
from vigil.ranges import int64
from vigil.server.mlflow import filters
from vigil.server.mlflow.errors import exists, invalid, missing
from vigil.server.mlflow.wire import (
    Payload,
    integer,
    key_values,
    optional_text,
    pairs,
    strings,
    text,
)
from vigil.store.core import Store
from vigil.store.tracking_tables import Experiment, ExperimentTag, Run
from vigil.tracking.checks import now_ms
from vigil.tracking.search import compare, decode_page_token, encode_page_token
from vigil.tracking.service import TrackingService

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"
VIEW_TYPES = {
    "ACTIVE_ONLY": ("active",),
    "DELETED_ONLY": ("deleted",),
    "ALL": ("active", "deleted"),
}


def experiment_artifact_uri(experiment_id: int) -> str:
    return f"mlflow-artifacts:/{experiment_id}"


def experiment_id_of(body: Payload, name: str = "experiment_id") -> int:
    raw = text(body, name)
    try:
        return int64(int(raw), name)
    except (ValueError, InvalidInputError):  # not a number, or one no experiment can have
        raise missing(f"No Experiment with id={raw} exists", experiment_id=raw) from None


class MlflowExperiments:
    """MLflow's experiment operations on a Vigil store, on behalf of `user` (the token's owner)."""

    def __init__(self, store: Store, user: str) -> None:
        self.store = store
        self.user = user
        self.service = TrackingService(store)

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
        with self.store.read_session() as session:
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
        with self.store.read_session() as session:
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
