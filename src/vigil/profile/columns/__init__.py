"""Column profiles, one class per kind, each immutable and mergeable.

A column profile is built from one Arrow array by `profile_array` and merged with `merge_columns`.
Every class follows the same small contract: `of(array)`, `merge(other)`, `to_state()` and
`from_state(state)` for serialisation, and `to_dict()` for readers. Each kind lives in its own
module beside this one; this module dispatches on the kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa

from vigil.errors import SchemaConflictError, SerializationError
from vigil.profile.columns.booleans import BooleanColumn
from vigil.profile.columns.datetimes import DatetimeColumn
from vigil.profile.columns.embeddings import EmbeddingColumn
from vigil.profile.columns.numeric import Histogram, NumericColumn
from vigil.profile.columns.strings import StringColumn
from vigil.profile.columns.unknown import UnknownColumn
from vigil.schema import STRING_KINDS, ColumnKind

__all__ = [
    "COLUMN_TYPES",
    "AnyColumn",
    "BooleanColumn",
    "DatetimeColumn",
    "EmbeddingColumn",
    "Histogram",
    "NumericColumn",
    "StringColumn",
    "UnknownColumn",
    "column_from_state",
    "merge_columns",
    "profile_array",
]

COLUMN_TYPES: dict[ColumnKind, Any] = {
    ColumnKind.UNKNOWN: UnknownColumn,
    ColumnKind.NUMERIC: NumericColumn,
    ColumnKind.DATETIME: DatetimeColumn,
    ColumnKind.BOOLEAN: BooleanColumn,
    ColumnKind.CATEGORICAL: StringColumn,
    ColumnKind.TEXT: StringColumn,
    ColumnKind.EMBEDDING: EmbeddingColumn,
}

AnyColumn = (
    UnknownColumn | NumericColumn | DatetimeColumn | BooleanColumn | StringColumn | EmbeddingColumn
)


def profile_array(array: pa.Array, kind: ColumnKind, patterns: Sequence[str] = ()) -> AnyColumn:
    """Profile one Arrow array as the given kind (the array is cast to fit the kind first)."""
    if kind is ColumnKind.UNKNOWN or pa.types.is_null(array.type):
        if kind is ColumnKind.UNKNOWN:
            return UnknownColumn.of(array)
        array = pa.nulls(len(array), type=_NULL_TYPES[kind])
    if kind in STRING_KINDS:
        return StringColumn.of(array, kind, patterns)
    if kind is ColumnKind.NUMERIC:
        return NumericColumn.of(array)
    if kind is ColumnKind.BOOLEAN:
        return BooleanColumn.of(array)
    if kind is ColumnKind.DATETIME:
        return DatetimeColumn.of(array)
    return EmbeddingColumn.of(array)


_NULL_TYPES: dict[ColumnKind, pa.DataType] = {
    ColumnKind.NUMERIC: pa.float64(),
    ColumnKind.CATEGORICAL: pa.string(),
    ColumnKind.TEXT: pa.string(),
    ColumnKind.BOOLEAN: pa.bool_(),
    ColumnKind.DATETIME: pa.timestamp("us"),
    ColumnKind.EMBEDDING: pa.list_(pa.float64()),
}


def merge_columns(name: str, a: AnyColumn, b: AnyColumn) -> AnyColumn:
    """Merge two profiles of the same column. Unknown merges into anything; categorical and text
    merge as text; any other pair of different kinds is a conflict."""
    if isinstance(a, UnknownColumn) and not isinstance(b, UnknownColumn):
        return _add_nulls(b, a.count)
    if isinstance(b, UnknownColumn) and not isinstance(a, UnknownColumn):
        return _add_nulls(a, b.count)
    if type(a) is not type(b):
        raise SchemaConflictError(
            f"column {name!r} is {a.kind.value} in one profile and {b.kind.value} in the other; "
            "profile both with the same schema (e.g. schema={" + repr(name) + ": 'categorical'})",
            column=name,
            kinds=[a.kind.value, b.kind.value],
        )
    merged: AnyColumn = a.merge(b)  # type: ignore[arg-type]
    return merged


def _add_nulls(column: AnyColumn, n: int) -> AnyColumn:
    if n == 0:
        return column
    return replace(column, count=column.count + n, null_count=column.null_count + n)


def column_from_state(kind: str, state: Mapping[str, Any]) -> AnyColumn:
    try:
        parsed = ColumnKind(kind)
    except ValueError:
        raise SerializationError(f"unknown column kind {kind!r} in profile bytes") from None
    result: AnyColumn = COLUMN_TYPES[parsed].from_state(state)
    return result
