"""The profile of a timestamp or date column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.profile import state as st
from vigil.profile.columns.common import check_quantile, count_nulls, either
from vigil.profile.sketches import QuantileSketch
from vigil.schema import ColumnKind

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class DatetimeColumn:
    """Extremes and quantiles of timestamps, kept as microseconds since the epoch (UTC)."""

    count: int
    null_count: int
    min_us: int | None
    max_us: int | None
    quantiles: QuantileSketch
    timezone: str | None
    kind: ClassVar[ColumnKind] = ColumnKind.DATETIME

    @classmethod
    def of(cls, array: pa.Array) -> DatetimeColumn:
        t = array.type
        timezone = t.tz if pa.types.is_timestamp(t) else None
        values = array.drop_null() if array.null_count else array
        if pa.types.is_date(values.type):
            values = values.cast(pa.timestamp("us"))
        micros = pc.cast(values, pa.timestamp("us", tz=timezone), safe=False).cast(pa.int64())
        as_int = micros.to_numpy(zero_copy_only=False)
        return cls(
            count=len(array),
            null_count=count_nulls(array),
            min_us=int(as_int.min()) if as_int.size else None,
            max_us=int(as_int.max()) if as_int.size else None,
            quantiles=QuantileSketch.of(as_int.astype(np.float64), "float64"),
            timezone=timezone,
        )

    def merge(self, other: DatetimeColumn) -> DatetimeColumn:
        return DatetimeColumn(
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            min_us=either(min, self.min_us, other.min_us),
            max_us=either(max, self.max_us, other.max_us),
            quantiles=self.quantiles.merge(other.quantiles),
            timezone=self.timezone if self.timezone == other.timezone else "UTC",
        )

    @classmethod
    def merge_all(cls, columns: Sequence[DatetimeColumn]) -> DatetimeColumn:
        """`merge` folded over `columns` (at least one), each block merged in one pass."""
        timezone = columns[0].timezone
        for column in columns[1:]:
            timezone = timezone if timezone == column.timezone else "UTC"
        return DatetimeColumn(
            count=sum(c.count for c in columns),
            null_count=sum(c.null_count for c in columns),
            min_us=min((c.min_us for c in columns if c.min_us is not None), default=None),
            max_us=max((c.max_us for c in columns if c.max_us is not None), default=None),
            quantiles=QuantileSketch.merge_all([c.quantiles for c in columns]),
            timezone=timezone,
        )

    @property
    def min(self) -> dt.datetime | None:
        return _from_us(self.min_us)

    @property
    def max(self) -> dt.datetime | None:
        return _from_us(self.max_us)

    def quantile(self, q: float) -> dt.datetime | None:
        check_quantile(q)
        if self.min_us is None:
            return None
        return _from_us(round(self.quantiles.quantile(q)))

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "null_count": self.null_count,
            "min": self.min_us,
            "max": self.max_us,
            "kll": self.quantiles.to_bytes(),
            "tz": self.timezone,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DatetimeColumn:
        column = cls(
            count=st.count(state, "count"),
            null_count=st.count(state, "null_count"),
            min_us=st.micros(state, "min"),
            max_us=st.micros(state, "max"),
            quantiles=QuantileSketch.from_bytes(st.get(state, "kll"), "float64"),
            timezone=st.text(state, "tz", optional=True),
        )
        st.no_more_than(column.null_count, "null_count", column.count, "count")
        st.no_more_than(column.quantiles.n, "quantile sketch count", column.count, "count")
        extremes = column.min_us, column.max_us
        if column.quantiles.is_empty:
            if extremes != (None, None):
                raise st.bad("min/max", "of a column without values must be null", extremes)
            return column
        sketched = column.quantiles.quantile(0.0), column.quantiles.quantile(1.0)
        if None in extremes or column.min_us > column.max_us:  # type: ignore[operator]
            raise st.bad("min/max", "must be set with min <= max", extremes)
        if not st.MIN_MICROS <= sketched[0] <= sketched[1] <= st.MAX_MICROS:
            raise st.bad(
                "kll", "quantiles must be microseconds between the years 1 and 9999", sketched
            )
        return column

    def to_dict(self) -> dict[str, Any]:
        def iso(v: dt.datetime | None) -> str | None:
            return v.isoformat() if v is not None else None

        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "min": iso(self.min),
            "max": iso(self.max),
            "median": iso(self.quantile(0.5)),
            "timezone": self.timezone,
        }


def _from_us(micros: int | None) -> dt.datetime | None:
    if micros is None:
        return None
    return _EPOCH + dt.timedelta(microseconds=micros)
