"""Column kinds and how they are inferred from Arrow types.

Inference looks at the Arrow type first; the only data-dependent choice is text versus categorical
for string columns, made on the first batch that has values (long strings with spaces are text).
A schema given by the user overrides inference column by column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import InvalidInputError

# The columns Vigil adds to every logged row; a user column may not start with `vigil_`.
RESERVED_PREFIX = "vigil_"
ID_COLUMN = "vigil_id"
TIMESTAMP_COLUMN = "vigil_timestamp"
VERSION_COLUMN = "vigil_version"
LABEL_COLUMN = "vigil_label"

TEXT_MIN_MEAN_LENGTH = 40
"""A string column whose non-null values average at least this many characters, and most of which
contain a space, is inferred as free text rather than a categorical column."""


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    EMBEDDING = "embedding"
    UNKNOWN = "unknown"
    """A column with no typed values yet (Arrow's null type, e.g. all None). It merges into any kind."""

    @classmethod
    def parse(cls, value: str | ColumnKind, *, column: str | None = None) -> ColumnKind:
        if isinstance(value, ColumnKind):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            where = f" for column {column!r}" if column is not None else ""
            allowed = ", ".join(k.value for k in cls if k is not cls.UNKNOWN)
            raise InvalidInputError(
                f"unknown column kind {value!r}{where}; use one of: {allowed}",
                column=column,
                value=str(value),
            ) from None


STRING_KINDS = frozenset({ColumnKind.CATEGORICAL, ColumnKind.TEXT})


@dataclass(frozen=True)
class Schema:
    """Column kinds chosen by the user; columns not named are inferred.

    >>> Schema({"zip": "categorical", "notes": "text"})
    """

    kinds: Mapping[str, ColumnKind] = field(default_factory=dict)

    def __init__(self, kinds: Mapping[str, str | ColumnKind] | None = None) -> None:
        parsed = {
            str(name): ColumnKind.parse(kind, column=str(name))
            for name, kind in (kinds or {}).items()
        }
        object.__setattr__(self, "kinds", parsed)

    @classmethod
    def coerce(cls, value: Schema | Mapping[str, str | ColumnKind] | None) -> Schema:
        if value is None:
            return cls()
        if isinstance(value, Schema):
            return value
        if isinstance(value, Mapping):
            return cls(value)
        raise InvalidInputError(
            f"schema must be a mapping of column name to kind or a vigil.Schema, "
            f"got {type(value).__name__}"
        )

    def get(self, name: str) -> ColumnKind | None:
        return self.kinds.get(name)


def is_float_list(t: pa.DataType) -> bool:
    """A list type whose values are numbers: the Arrow shape of an embedding."""
    if pa.types.is_fixed_size_list(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
        value_type = t.value_type
        return bool(pa.types.is_floating(value_type) or pa.types.is_integer(value_type))
    return False


def kind_from_type(t: pa.DataType) -> ColumnKind | None:
    """The kind an Arrow type implies, or None for types Vigil does not profile (structs, maps...).

    Plain (variable-size) lists of numbers are embeddings only when every row has the same length;
    the profiler checks that on the data.
    """
    if pa.types.is_dictionary(t):
        return kind_from_type(t.value_type)
    if pa.types.is_null(t):
        return ColumnKind.UNKNOWN
    if pa.types.is_boolean(t):
        return ColumnKind.BOOLEAN
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_duration(t)
    ):
        return ColumnKind.NUMERIC
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return ColumnKind.DATETIME
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    ):
        return ColumnKind.CATEGORICAL
    if is_float_list(t):
        return ColumnKind.EMBEDDING
    return None


def looks_like_text(array: pa.Array) -> bool:
    """True when a string array reads as free text: long values, most with spaces."""
    values = array.drop_null()
    if len(values) == 0:
        return False
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return False
    sample = values.slice(0, 1000)
    mean_length = pc.mean(pc.utf8_length(sample)).as_py() or 0.0
    if mean_length < TEXT_MIN_MEAN_LENGTH:
        return False
    with_space = pc.sum(pc.match_substring(sample, " ")).as_py() or 0
    return bool(with_space >= 0.5 * len(sample))
