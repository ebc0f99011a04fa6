"""Profiling a table in this process, batch by batch: choose each column's kind once (the user's
schema, else the Arrow type), cast what the schema asks for, profile each batch and merge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import InvalidInputError, VigilError
from vigil.io import open_source
from vigil.profile.columns import (
    AnyColumn,
    BooleanColumn,
    StringColumn,
    merge_columns,
    profile_array,
)
from vigil.profile.columns.numeric_batch import batchable, numeric_columns
from vigil.profile.parts import Window, to_window
from vigil.profile.profile import DatasetProfile
from vigil.profile.slice_columns import (
    boolean_columns,
    never_text,
    string_parts,
    takes_strings,
    with_kind,
)
from vigil.progress import bar
from vigil.schema import STRING_KINDS, ColumnKind, Schema, kind_from_type, looks_like_text

_CSV_TYPES: dict[ColumnKind, pa.DataType] = {
    ColumnKind.NUMERIC: pa.float64(),
    ColumnKind.CATEGORICAL: pa.string(),
    ColumnKind.TEXT: pa.string(),
    ColumnKind.BOOLEAN: pa.bool_(),
}


def profile_batches(
    data: Any,
    parsed: Schema,
    wanted_patterns: Mapping[str, Sequence[str]],
    *,
    window: Window | tuple[Any, Any] | None,
    batch_rows: int,
    progress: bool | None = False,
) -> DatasetProfile:
    """Profile `data` (anything `vigil.io.open_source` reads) with checked schema and patterns;
    with a bar of the rows read when `progress` allows it (`vigil.progress`)."""
    column_types = {n: _CSV_TYPES[k] for n, k in parsed.kinds.items() if k in _CSV_TYPES}
    source = open_source(data, batch_rows=batch_rows, column_types=column_types)
    names = list(source.schema.names)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(f"{source.name} has duplicated column names: {dupes}")
    unknown = sorted(set(parsed.kinds) - set(names))
    if unknown:
        raise InvalidInputError(
            f"schema names column(s) {unknown} that {source.name} does not have; "
            f"its columns are {names}",
            columns=unknown,
        )
    unknown_patterns = sorted(set(wanted_patterns) - set(names))
    if unknown_patterns:
        raise InvalidInputError(
            f"patterns name column(s) {unknown_patterns} that {source.name} does not have",
            columns=unknown_patterns,
        )

    planner = _KindPlanner(source.schema, parsed)
    columns: dict[str, AnyColumn] = {}
    n_rows = 0
    with bar(
        total=source.total_rows, desc=f"profiling {source.name}", unit="rows", progress=progress
    ) as shown:
        for batch in source:
            n_rows += batch.num_rows
            for name, part in _profile_batch(batch, names, planner, wanted_patterns):
                columns[name] = (
                    merge_columns(name, columns[name], part) if name in columns else part
                )
            shown.update(batch.num_rows)
    for field in source.schema:
        if field.name in columns:
            continue
        kind = planner.kind(field.name, pa.array([], type=field.type))
        if kind is not None:
            columns[field.name] = _profile_column(
                field.name, pa.array([], type=field.type), kind, wanted_patterns.get(field.name, ())
            )
    ordered = {name: columns[name] for name in names if name in columns}
    return DatasetProfile(ordered, n_rows, to_window(window), planner.skipped)


def profile_slices(
    batch: pa.RecordBatch, slices: Sequence[tuple[int, int, Window | None]]
) -> list[DatasetProfile]:
    """The profile of each `(offset, length, window)` slice of `batch`, to the byte the one
    `profile_batches(batch.slice(offset, length), Schema(), {}, window=window, ...)` gives, without
    each call's set-up (the source, its checks, the kinds read from the schema), and with the
    string and boolean columns measured once for all slices (`slice_columns`).

    Each slice is one batch of that call: not empty and at most its `batch_rows` long. `batch`
    has no duplicated column names (the caller checks; `profile_batches` raises on them).
    """
    names = batch.schema.names
    planned = _KindPlanner(batch.schema, Schema())
    ready: dict[int, list[StringColumn] | list[BooleanColumn]] = {}
    if len(slices) > 1:
        spans = [(offset, length) for offset, length, _ in slices]
        for index, (name, array) in enumerate(zip(names, batch.columns, strict=True)):
            kind = planned.planned(name)
            if kind in STRING_KINDS and takes_strings(array):
                if never_text(array):
                    planned.settle(name)  # as each slice's planner would find
                ready[index] = string_parts(array, spans)
            elif kind is ColumnKind.BOOLEAN and pa.types.is_boolean(array.type):
                ready[index] = boolean_columns(array, spans)
    out = []
    for position, (offset, length, window) in enumerate(slices):
        # String columns are read as text or not per call: each slice decides on its own.
        planner = planned.copy() if len(slices) > 1 else planned
        measured = {index: items[position] for index, items in ready.items()}
        whole = offset == 0 and length == batch.num_rows
        part = batch if whole else batch.slice(offset, length)
        columns = dict(_profile_batch(part, names, planner, {}, measured))
        out.append(DatasetProfile(columns, length, window, planner.skipped))
    return out


def _profile_batch(
    batch: pa.RecordBatch,
    names: Sequence[str],
    planner: _KindPlanner,
    wanted_patterns: Mapping[str, Sequence[str]],
    measured: Mapping[int, StringColumn | BooleanColumn] | None = None,
) -> list[tuple[str, AnyColumn]]:
    """Each profiled column of one batch, in order. The numeric columns of a small batch that
    need no cast are profiled together (`numeric_batch`: the same profiles, fewer NumPy calls);
    `measured` holds columns already profiled (`slice_columns`), by position."""
    arrays = batch.columns
    kinds = [planner.kind(name, array) for name, array in zip(names, arrays, strict=True)]
    together = [
        index
        for index, kind in enumerate(kinds)
        if kind is ColumnKind.NUMERIC and batchable(arrays[index])
    ]
    batched: dict[int, AnyColumn] = {}
    if len(together) > 1:
        batched.update(zip(together, numeric_columns([arrays[i] for i in together]), strict=True))
    out: list[tuple[str, AnyColumn]] = []
    for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind is None:
            continue
        part = batched.get(index)
        done = measured.get(index) if measured else None
        if part is None and done is not None:
            part = with_kind(done, kind) if isinstance(done, StringColumn) else done
        if part is None:
            part = _profile_column(name, arrays[index], kind, wanted_patterns.get(name, ()))
        out.append((name, part))
    return out


class _KindPlanner:
    """Decides each column's kind once: the user's schema, else the Arrow type, else skip.

    String columns not fixed by the schema are read as text or categorical on the first batch that
    has values, and keep that kind for the rest of the data.
    """

    def __init__(self, schema: pa.Schema, user: Schema) -> None:
        self._kinds: dict[str, ColumnKind | None] = {}
        self._pending_text: set[str] = set()
        self.skipped: dict[str, str] = {}
        for name, type_ in zip(schema.names, schema.types, strict=True):
            chosen = user.get(name)
            if chosen is not None:
                self._kinds[name] = chosen
                continue
            known = type_.id in _KIND_OF_TYPE
            inferred = _KIND_OF_TYPE[type_.id] if known else kind_from_type(type_)
            if inferred is None:
                self.skipped[name] = (
                    f"type {type_} is not profiled; pass schema={{{name!r}: 'text'}} "
                    "to profile its values as strings"
                )
            if inferred is ColumnKind.CATEGORICAL and not _is_binary(type_):
                self._pending_text.add(name)
            self._kinds[name] = inferred

    def planned(self, name: str) -> ColumnKind | None:
        """The kind chosen for `name` so far (a string column may still turn to text)."""
        return self._kinds[name]

    def settle(self, name: str) -> None:
        """`name` keeps its kind: no batch of it can read as text (`slice_columns.never_text`)."""
        self._pending_text.discard(name)

    def copy(self) -> _KindPlanner:
        """A planner at this one's state (the kinds chosen so far), deciding on its own."""
        twin = object.__new__(_KindPlanner)
        twin._kinds = dict(self._kinds)
        twin._pending_text = set(self._pending_text)
        twin.skipped = self.skipped
        return twin

    def kind(self, name: str, array: pa.Array) -> ColumnKind | None:
        if name in self._pending_text and len(array) > array.null_count:
            self._pending_text.discard(name)
            if looks_like_text(array):
                self._kinds[name] = ColumnKind.TEXT
        return self._kinds[name]


_KIND_OF_TYPE: Mapping[int, ColumnKind | None] = MappingProxyType(
    {
        t.id: kind_from_type(t)
        for t in (
            pa.null(),
            pa.bool_(),
            *(pa.int8(), pa.int16(), pa.int32(), pa.int64()),
            *(pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()),
            *(pa.float16(), pa.float32(), pa.float64()),
            *(pa.timestamp("us"), pa.date32(), pa.date64(), pa.duration("us")),
            *(pa.string(), pa.large_string(), pa.binary(), pa.large_binary()),
        )
    }
)
"""`kind_from_type` of the Arrow types whose kind their type id alone decides (a timestamp is a
datetime whatever its unit and zone), looked up instead of asked (8 type tests per column)."""


def _is_binary(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_binary(t) or pa.types.is_large_binary(t))


def _profile_column(
    name: str, array: pa.Array | pa.ChunkedArray, kind: ColumnKind, patterns: Sequence[str]
) -> AnyColumn:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    try:
        converted = _convert(array, kind)
        return profile_array(converted, kind, patterns)
    except VigilError as exc:
        if "column" in exc.details:
            raise
        raise type(exc)(f"column {name!r}: {exc.message}", column=name, **exc.details) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"column {name!r} of type {array.type} cannot be profiled as {kind.value}: {exc}",
            column=name,
            kind=kind.value,
        ) from None


def _convert(array: pa.Array, kind: ColumnKind) -> pa.Array:
    """Cast an array to what the profile of `kind` reads, when the user's schema asked for a kind
    its Arrow type does not have."""
    t = array.type
    if pa.types.is_dictionary(t) and kind is not ColumnKind.CATEGORICAL:
        array = array.dictionary_decode()
        t = array.type
    if kind is ColumnKind.NUMERIC and kind_from_type(t) is not ColumnKind.NUMERIC:
        if pa.types.is_null(t):
            return array
        if pa.types.is_boolean(t):
            return pc.cast(array, pa.int8())
        return _cast_checked(array, pa.float64(), "numbers")
    if kind is ColumnKind.BOOLEAN and not pa.types.is_boolean(t) and not pa.types.is_null(t):
        return _cast_checked(array, pa.bool_(), "booleans")
    if kind is ColumnKind.DATETIME and not (pa.types.is_timestamp(t) or pa.types.is_date(t)):
        if pa.types.is_null(t):
            return array
        return _cast_checked(array, pa.timestamp("us"), "timestamps (ISO 8601)")
    if kind in (ColumnKind.CATEGORICAL, ColumnKind.TEXT) and kind_from_type(t) is None:
        # Nested values the user asked to read as text: their Python string form.
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())
    if kind is ColumnKind.EMBEDDING and kind_from_type(t) is not ColumnKind.EMBEDDING:
        raise InvalidInputError(
            f"type {t} cannot be an embedding: give a list or fixed-size list of numbers"
        )
    return array


def _cast_checked(array: pa.Array, target: pa.DataType, what: str) -> pa.Array:
    try:
        return pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        example = _first_bad(array, target)
        shown = f" (e.g. {example!r})" if example is not None else ""
        raise InvalidInputError(f"values cannot be read as {what}{shown}: {exc}") from None


def _first_bad(array: pa.Array, target: pa.DataType) -> Any:
    for value in array.slice(0, 10_000).to_pylist():
        if value is None:
            continue
        try:
            pc.cast(pa.array([value]), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return value
    return None
