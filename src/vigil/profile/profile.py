"""DatasetProfile: the immutable, mergeable, serialisable summary of a table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from vigil.errors import InvalidInputError
from vigil.profile.columns import AnyColumn, merge_columns, merge_many_columns
from vigil.profile.parts import Window
from vigil.profile.serialization import MAX_COLUMNS, decode_profile, encode_profile
from vigil.profile.summary import ROW_COLUMNS, column_rows, render_summary
from vigil.report.notebook import NotebookResult, Tone

__all__ = ["DatasetProfile", "Window"]


@dataclass(frozen=True)
class DatasetProfile(NotebookResult):
    """Per-column statistics of a table: a few KB whatever the row count.

    Build one with `vigil.profile(data)`. Profiles merge (associative and commutative, with
    `DatasetProfile.empty()` as identity), so chunks, windows, replicas and Spark partitions can be
    profiled apart and combined.
    """

    columns: Mapping[str, AnyColumn] = field(default_factory=dict)
    n_rows: int = 0
    window: Window | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)
    """Columns that were not profiled, with the reason (e.g. a struct column)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "skipped", MappingProxyType(dict(self.skipped)))

    @classmethod
    def empty(cls) -> DatasetProfile:
        return cls()

    @property
    def is_empty(self) -> bool:
        return self.n_rows == 0 and not self.columns

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """Combine two profiles, as if their rows had been profiled together.

        A column present in only one profile keeps that profile's statistics (its `count` tells
        how many rows it was seen in). A column whose kinds conflict raises SchemaConflictError.
        """
        if not isinstance(other, DatasetProfile):
            raise InvalidInputError(
                f"can only merge a DatasetProfile with another, got {type(other).__name__}"
            )
        columns: dict[str, AnyColumn] = dict(self.columns)
        for name, column in other.columns.items():
            columns[name] = (
                merge_columns(name, columns[name], column) if name in columns else column
            )
        skipped = {**other.skipped, **self.skipped}
        for name in columns:
            skipped.pop(name, None)
        window = self.window.union(other.window) if self.window else other.window
        return DatasetProfile(columns, self.n_rows + other.n_rows, window, skipped)

    @classmethod
    def merge_all(cls, profiles: Iterable[DatasetProfile]) -> DatasetProfile:
        """Merge many profiles: the same as `merge` folded over them in order (starting from the
        empty profile), in one pass per column.

        Pairwise, each merge copies the sketches merged so far (a merge never changes its
        inputs), so folding n parts copied a column's sketches n times; here each column's
        sketches are copied once and the rest merged into that copy. The profiles passed in are
        not changed (decoded profiles are shared: kept uploads, cached baselines).
        """
        items = list(profiles)
        for item in items:
            if not isinstance(item, DatasetProfile):
                raise InvalidInputError(
                    f"can only merge DatasetProfiles, got {type(item).__name__} among them"
                )
        by_name: dict[str, list[AnyColumn]] = {}
        skipped: dict[str, str] = {}
        window: Window | None = None
        for item in items:
            for name, column in item.columns.items():
                by_name.setdefault(name, []).append(column)
            skipped = {**item.skipped, **skipped}  # the earliest reason wins, as in `merge`
            window = window.union(item.window) if window else item.window
        columns = {name: merge_many_columns(name, group) for name, group in by_name.items()}
        for name in columns:
            skipped.pop(name, None)
        return cls(columns, sum(item.n_rows for item in items), window, skipped)

    def with_window(self, start: dt.datetime, end: dt.datetime) -> DatasetProfile:
        return DatasetProfile(self.columns, self.n_rows, Window(start, end), self.skipped)

    def select(self, names: Iterable[str]) -> DatasetProfile:
        """A profile of only the named columns (unknown names raise)."""
        wanted = list(names)
        missing = [n for n in wanted if n not in self.columns]
        if missing:
            raise InvalidInputError(
                f"no column(s) {missing} in the profile; it has {sorted(self.columns)}",
                columns=missing,
            )
        return DatasetProfile({n: self.columns[n] for n in wanted}, self.n_rows, self.window, {})

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form; `DatasetProfile.from_bytes` reads it back."""
        return encode_profile(self)

    @classmethod
    def from_bytes(cls, blob: bytes, *, max_columns: int = MAX_COLUMNS) -> DatasetProfile:
        """The profile in `blob`, checked (SerializationError, naming what is wrong, if it is not
        one); at most `max_columns` columns, counted before any is decoded."""
        columns, n_rows, window, skipped = decode_profile(blob, max_columns)
        return cls(columns, n_rows, window, skipped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_rows": self.n_rows,
            "window": self.window.to_dict() if self.window else None,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
            "skipped": dict(self.skipped),
        }

    def summary(self) -> str:
        """A readable text table of the profile."""
        return render_summary(self)

    # In a notebook: a table of the columns; `to_pandas()` has one row per column.
    def _columns(self) -> tuple[str, ...]:
        return ROW_COLUMNS

    def _rows(self) -> list[dict[str, Any]]:
        return column_rows(self)

    def _headline(self) -> tuple[str, Tone]:
        window = (
            f", window {self.window.start.isoformat()} .. {self.window.end.isoformat()}"
            if self.window
            else ""
        )
        return f"{self.n_rows:,} rows, {len(self.columns)} columns{window}", "neutral"

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for column in self.columns.values():
            kinds[column.kind.value] = kinds.get(column.kind.value, 0) + 1
        described = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        window = (
            f", window={self.window.start.isoformat()}..{self.window.end.isoformat()}"
            if self.window
            else ""
        )
        return f"DatasetProfile(n_rows={self.n_rows}, columns={len(self.columns)} [{described}]{window})"
