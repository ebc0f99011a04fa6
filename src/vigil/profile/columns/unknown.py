"""The profile of a column with no typed values yet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa

from vigil.profile import state as st
from vigil.schema import ColumnKind


@dataclass(frozen=True, slots=True)
class UnknownColumn:
    """A column with no typed values yet; merging with any other kind adopts that kind."""

    count: int = 0
    null_count: int = 0
    kind: ClassVar[ColumnKind] = ColumnKind.UNKNOWN

    @classmethod
    def of(cls, array: pa.Array) -> UnknownColumn:
        return cls(len(array), len(array))

    def merge(self, other: UnknownColumn) -> UnknownColumn:
        return UnknownColumn(self.count + other.count, self.null_count + other.null_count)

    @classmethod
    def merge_all(cls, columns: Sequence[UnknownColumn]) -> UnknownColumn:
        return UnknownColumn(sum(c.count for c in columns), sum(c.null_count for c in columns))

    def to_state(self) -> dict[str, Any]:
        return {"count": self.count, "null_count": self.null_count}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> UnknownColumn:
        column = cls(st.count(state, "count"), st.count(state, "null_count"))
        st.no_more_than(column.null_count, "null_count", column.count, "count")
        return column

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "count": self.count, "null_count": self.null_count}
