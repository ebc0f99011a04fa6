"""The profile of a boolean column."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from vigil.profile import state as st
from vigil.profile.columns.common import count_nulls
from vigil.schema import ColumnKind


@dataclass(frozen=True, slots=True)
class BooleanColumn:
    count: int
    null_count: int
    true_count: int
    kind: ClassVar[ColumnKind] = ColumnKind.BOOLEAN

    @classmethod
    def of(cls, array: pa.Array) -> BooleanColumn:
        return cls(len(array), count_nulls(array), int(pc.sum(array).as_py() or 0))

    def merge(self, other: BooleanColumn) -> BooleanColumn:
        return BooleanColumn(
            self.count + other.count,
            self.null_count + other.null_count,
            self.true_count + other.true_count,
        )

    @classmethod
    def merge_all(cls, columns: Sequence[BooleanColumn]) -> BooleanColumn:
        return BooleanColumn(
            sum(c.count for c in columns),
            sum(c.null_count for c in columns),
            sum(c.true_count for c in columns),
        )

    @property
    def false_count(self) -> int:
        return self.count - self.null_count - self.true_count

    @property
    def true_share(self) -> float:
        present = self.count - self.null_count
        return self.true_count / present if present else math.nan

    def to_state(self) -> dict[str, Any]:
        return {"count": self.count, "null_count": self.null_count, "true": self.true_count}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> BooleanColumn:
        column = cls(
            st.count(state, "count"), st.count(state, "null_count"), st.count(state, "true")
        )
        st.no_more_than(
            column.null_count + column.true_count, "nulls and trues", column.count, "count"
        )
        return column

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "true_count": self.true_count,
            "false_count": self.false_count,
        }
