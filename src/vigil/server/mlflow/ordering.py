"""MLflow's `order_by` for the registry searches: clauses `<key> [ASC|DESC]` over the keys MLflow
allows, each key at most once, then MLflow's tie-breakers; anything else is refused as MLflow
refuses it (INVALID_PARAMETER_VALUE, naming the clause and the keys allowed).

The searches sort in Python: they already hold every matching row (tag filters are applied in
Python too), and MLflow's keys include values Vigil derives (a version's last update).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from vigil.server.mlflow.errors import invalid
from vigil.server.mlflow.wire import ms_of
from vigil.store.registry_tables import RegisteredModel, RegistryModelVersion

T = TypeVar("T")

MAX_CLAUSES = 10

_CLAUSE = re.compile(
    r"^\s*(?:attribute\.)?(?:`(?P<quoted>[^`]+)`|(?P<plain>[\w.]+))\s*(?:\s(?P<direction>\w+))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Ordering:
    """Which keys a search may order by, what each means, and MLflow's tie-breakers."""

    what: str
    """The searched things, for messages (`registered models`, `model versions`)."""
    keys: Mapping[str, str]
    """Each key a client may name, and the field it sorts on (`timestamp` is a synonym)."""
    default: tuple[tuple[str, bool], ...]
    """(field, ascending) when the client names no order."""
    ties: tuple[tuple[str, bool], ...]
    """(field, ascending) appended when the client's order does not already name the field."""

    def parse(self, clauses: Sequence[str]) -> list[tuple[str, bool]]:
        """The (field, ascending) list a search sorts by; InvalidInputError (MLflow's
        INVALID_PARAMETER_VALUE) for a clause that is malformed, unknown or repeated."""
        if len(clauses) > MAX_CLAUSES:
            raise invalid(f"order_by has {len(clauses)} clauses; at most {MAX_CLAUSES} are allowed")
        order: list[tuple[str, bool]] = []
        for clause in clauses:
            match = _CLAUSE.match(clause)
            if match is None:
                raise invalid(f"Invalid order_by clause '{clause}'. Could not be parsed.")
            key = match["quoted"] or match["plain"]
            direction = (match["direction"] or "ASC").upper()
            if direction not in ("ASC", "DESC"):
                raise invalid(
                    f"Invalid ordering key in order_by clause '{clause}': "
                    f"{match['direction']!r} is not ASC or DESC."
                )
            field = self.keys.get(key)
            if field is None:
                raise invalid(
                    f"Invalid order by key '{key}' specified for {self.what}. Valid keys are "
                    f"{sorted(self.keys)}",
                    key=key,
                )
            if any(f == field for f, _ in order):
                raise invalid(f"`order_by` contains duplicate fields: {list(clauses)}")
            order.append((field, direction == "ASC"))
        if not order:
            order = list(self.default)
        for field, ascending in self.ties:
            if all(f != field for f, _ in order):
                order.append((field, ascending))
        return order

    def sort(
        self, items: Sequence[T], clauses: Sequence[str], value: Callable[[T, str], Any]
    ) -> list[T]:
        """`items` in the order `clauses` ask for; `value(item, field)` reads a field."""
        order = self.parse(clauses)
        out = list(items)
        # Stable sorts from the last key to the first: each key may go its own direction.
        for field, ascending in reversed(order):
            out.sort(key=lambda item: value(item, field), reverse=not ascending)
        return out


REGISTERED_MODELS = Ordering(
    what="registered models",
    keys={
        "name": "name",
        "timestamp": "last_updated_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
        "creation_timestamp": "creation_timestamp",
    },
    default=(("name", True),),
    ties=(("name", True),),
)

MODEL_VERSIONS = Ordering(
    what="model versions",
    keys={
        "name": "name",
        "version_number": "version_number",
        "creation_timestamp": "creation_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
    },
    default=(("last_updated_timestamp", False), ("name", True), ("version_number", False)),
    ties=(("name", True), ("version_number", False)),
)


def registered_model_field(model: RegisteredModel, field: str) -> Any:
    """A registered model's value of a `REGISTERED_MODELS` field."""
    if field == "name":
        return model.name
    if field == "creation_timestamp":
        return ms_of(model.created_at)
    return ms_of(model.updated_at)  # last_updated_timestamp


def model_version_field(
    item: tuple[RegisteredModel, RegistryModelVersion, int | None], field: str
) -> Any:
    """A (model, version, MLflow's last update or None) row's value of a `MODEL_VERSIONS` field."""
    model, row, updated_ms = item
    if field == "name":
        return model.name
    if field == "version_number":
        return row.version
    if field == "creation_timestamp":
        return ms_of(row.created_at)
    return ms_of(row.created_at) if updated_ms is None else updated_ms  # last_updated_timestamp
