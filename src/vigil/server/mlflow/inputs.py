"""A run's inputs in MLflow's terms: the datasets `log_inputs` describes (name, digest, source,
schema, profile and the input's tags, e.g. `mlflow.data.context`) and the logged models it used.

MLflow sends a dataset's description, not its content, so it is kept as described, beside Vigil's
own dataset versions (which hold data). A dataset is an input of a run once per name and digest:
logging it again changes nothing, as in MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.server.mlflow.errors import invalid, missing
from vigil.server.mlflow.wire import Payload, key_values, pairs, text
from vigil.store.mlflow_tables import MlflowDatasetInput, MlflowLoggedModel, MlflowModelInput

MAX_INPUTS_PER_CALL = 1000
# MLflow's own bounds on a dataset's fields and an input tag's key and value.
_LIMITS = {
    "name": 500,
    "digest": 36,
    "source_type": 36,
    "source": 65_535,
    "schema": 1_048_575,
    "profile": 16_777_215,
}
_TAG_KEY_LIMIT = 255
_TAG_VALUE_LIMIT = 500


def _bounded(dataset: Payload, field: str, *, required: bool) -> str:
    value = text(dataset, field) if required else text(dataset, field, default="")
    if len(value) > _LIMITS[field]:
        raise invalid(
            f"dataset {field} has {len(value)} characters; MLflow allows at most {_LIMITS[field]}",
            field=field,
        )
    return value


def _input_tags(item: Payload) -> dict[str, str]:
    tags = key_values(item, "tags")
    for key, value in tags.items():
        if not key or len(key) > _TAG_KEY_LIMIT or len(value) > _TAG_VALUE_LIMIT:
            raise invalid(
                f"input tag {key[:50]!r} must have a key of 1 to {_TAG_KEY_LIMIT} characters and "
                f"a value of at most {_TAG_VALUE_LIMIT} (got {len(key)} and {len(value)})"
            )
    return tags


def _items(body: Payload, name: str) -> list[Mapping[str, Any]]:
    items = body.get(name) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise invalid(f"parameter '{name}' must be a list of objects, got {items!r:.200}")
    if len(items) > MAX_INPUTS_PER_CALL:
        raise invalid(
            f"{len(items)} {name} in one call; at most {MAX_INPUTS_PER_CALL} are allowed",
            parameter=name,
        )
    return items


def log_inputs(session: Session, run_id: str, body: Payload) -> None:
    """Add the `datasets` and `models` of a LogInputs request to the run (checked whole first,
    so a bad item writes nothing); the caller commits."""
    datasets = []
    for item in _items(body, "datasets"):
        dataset = item.get("dataset")
        if not isinstance(dataset, Mapping):
            raise invalid(f"each dataset input needs a 'dataset' object, got {item!r:.200}")
        fields = {f: _bounded(dataset, f, required=f not in ("schema", "profile")) for f in _LIMITS}
        datasets.append((fields, _input_tags(item)))
    model_ids = [text(item, "model_id") for item in _items(body, "models")]
    for model_id in model_ids:
        if session.get(MlflowLoggedModel, model_id) is None:
            raise missing(f"Logged model with ID '{model_id}' not found.", model_id=model_id)

    known = {
        (name, digest)
        for name, digest in session.execute(
            select(MlflowDatasetInput.name, MlflowDatasetInput.digest).where(
                MlflowDatasetInput.run_id == run_id
            )
        )
    }
    for fields, tags in datasets:
        if (fields["name"], fields["digest"]) in known:
            continue
        known.add((fields["name"], fields["digest"]))
        session.add(MlflowDatasetInput(run_id=run_id, tags=tags, **fields))
    add_model_inputs(session, run_id, model_ids)


def add_model_inputs(session: Session, run_id: str, model_ids: Sequence[str]) -> None:
    """Record the logged models as inputs of the run (each once)."""
    for model_id in dict.fromkeys(model_ids):
        if session.get(MlflowModelInput, (run_id, model_id)) is None:
            session.add(MlflowModelInput(run_id=run_id, model_id=model_id))


def inputs_json(session: Session, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each run's `inputs` in MLflow's shape: dataset inputs in the order they were logged, and
    model inputs."""
    out: dict[str, dict[str, Any]] = {
        run_id: {"dataset_inputs": [], "model_inputs": []} for run_id in run_ids
    }
    if not run_ids:
        return out
    rows = session.scalars(
        select(MlflowDatasetInput)
        .where(MlflowDatasetInput.run_id.in_(run_ids))
        .order_by(MlflowDatasetInput.id)
    )
    for row in rows:
        dataset = {
            "name": row.name,
            "digest": row.digest,
            "source_type": row.source_type,
            "source": row.source,
        }
        if row.schema:
            dataset["schema"] = row.schema
        if row.profile:
            dataset["profile"] = row.profile
        out[row.run_id]["dataset_inputs"].append({"tags": pairs(row.tags), "dataset": dataset})
    models = session.execute(
        select(MlflowModelInput.run_id, MlflowModelInput.model_id)
        .where(MlflowModelInput.run_id.in_(run_ids))
        .order_by(MlflowModelInput.run_id, MlflowModelInput.model_id)
    )
    for run_id, model_id in models:
        out[run_id]["model_inputs"].append({"model_id": model_id})
    return out
