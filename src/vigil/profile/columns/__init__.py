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
    "merge_many_columns",
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
        raise _conflict(name, a.kind, b.kind)
    merged: AnyColumn = a.merge(b)  # type: ignore[arg-type]
    return merged


def merge_many_columns(name: str, columns: Sequence[AnyColumn]) -> AnyColumn:
    """`merge_columns` folded over `columns` (at least one) in order, in one pass per block: the
    same result, and the same conflict raised, as merging them two by two."""
    if len(columns) == 1:
        return columns[0]
    typed = [c for c in columns if not isinstance(c, UnknownColumn)]
    nulls = sum(c.count for c in columns if isinstance(c, UnknownColumn))
    if not typed:
        return UnknownColumn.merge_all(columns)  # type: ignore[arg-type]
    kind = typed[0].kind  # what a pairwise fold's accumulated column would be, for the message
    for column in typed[1:]:
        if type(column) is not type(typed[0]):
            raise _conflict(name, kind, column.kind)
        kind = ColumnKind.TEXT if column.kind is ColumnKind.TEXT else kind
    merged: AnyColumn = typed[0] if len(typed) == 1 else typed[0].merge_all(typed)  # type: ignore[arg-type]
    return _add_nulls(merged, nulls)


def _conflict(name: str, a: ColumnKind, b: ColumnKind) -> SchemaConflictError:
    return SchemaConflictError(
        f"column {name!r} is {a.value} in one profile and {b.value} in the other; "
        "profile both with the same schema (e.g. schema={" + repr(name) + ": 'categorical'})",
        column=name,
        kinds=[a.value, b.value],
    )


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
