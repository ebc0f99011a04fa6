"""Normalising what users pass to the registry: tags, metrics, schemas, and who they are."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vigil.errors import InvalidInputError
from vigil.schema import ColumnKind, Schema

if TYPE_CHECKING:
    from vigil.profile import DatasetProfile

SchemaLike = Schema | Mapping[str, Any] | None


def clean_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidInputError(f"tags must be a mapping of name to value, got {tags!r}")
    return {str(k): str(v) for k, v in tags.items()}


def clean_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInputError(
                f"metric {key!r} must be a finite number, got {value!r}", metric=key
            )
        out[str(key)] = float(value)
    return out


def schema_document(schema: SchemaLike, profile: DatasetProfile | None) -> dict[str, Any] | None:
    """{"inputs": [{"name", "kind"}], "outputs": [...]}, from an explicit schema or the profile."""
    if schema is None:
        if profile is None:
            return None
        return {
            "inputs": [{"name": n, "kind": c.kind.value} for n, c in profile.columns.items()],
            "outputs": [],
        }
    if isinstance(schema, Schema):
        return {
            "inputs": [{"name": n, "kind": k.value} for n, k in schema.kinds.items()],
            "outputs": [],
        }
    if isinstance(schema, Mapping) and set(schema) <= {"inputs", "outputs"}:
        out: dict[str, Any] = {}
        for part in ("inputs", "outputs"):
            columns = schema.get(part) or []
            out[part] = [
                {"name": str(c["name"]), "kind": ColumnKind.parse(c["kind"]).value} for c in columns
            ]
        return out
    return schema_document(Schema.coerce(schema), None)
