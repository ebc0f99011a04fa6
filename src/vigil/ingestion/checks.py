"""The checks of an upload before anything of it is written: its profiles (decoded with every
check, of the model's windows and columns), their segment keys and its rows; and `CheckedLog`,
a log batch that passed them."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from vigil.api.specs import IngestResult, ModelSpec
from vigil.api.wire import LogBatch, ipc_to_table
from vigil.errors import InvalidInputError
from vigil.profile import DatasetProfile
from vigil.profile.trust import remember
from vigil.schema import ID_COLUMN, LABEL_COLUMN, TIMESTAMP_COLUMN, VERSION_COLUMN
from vigil.store.models import SEGMENT_KEY_LENGTH
from vigil.store.predictions import TIMESTAMP_TYPE


@dataclass(frozen=True)
class CheckedLog:
    """A log batch that passed every check: what its transaction writes, and its answer."""

    model_id: int
    batch: LogBatch
    profiles: tuple[DatasetProfile, ...]
    segments: tuple[str, ...]
    rows: pa.Table | None
    """The rows to store (with their version column), or None."""
    result: IngestResult
    """The answer once written (`duplicate` when its batch id was claimed before)."""


def check_profile(spec: ModelSpec, blob: bytes, index: int) -> DatasetProfile:
    """Upload `blob` (profile #`index`) decoded with every check, and of one of the model's
    windows and columns. It may have no more columns than the model profiles: a profile with
    more is refused before any column is decoded."""
    columns = spec.profiled_columns  # a new list each time: built once here
    profile = DatasetProfile.from_bytes(blob, max_columns=len(columns))
    grid = spec.grid
    if profile.window is None:
        raise InvalidInputError(
            f"profile #{index} has no window; profiles sent to a model must cover one of its "
            f"{grid} windows",
        )
    start, end = profile.window.start, profile.window.end
    if not grid.is_window(start, end):
        raise InvalidInputError(
            f"profile #{index} covers {start.isoformat()}..{end.isoformat()}, which is not one of "
            f"model {spec.name!r}'s {grid} windows",
            start=start.isoformat(),
            end=end.isoformat(),
        )
    unknown = sorted(set(profile.columns).difference(columns))
    if unknown:
        raise InvalidInputError(
            f"profile #{index} has column(s) {unknown} that model {spec.name!r} does not declare; "
            f"its profiled columns are {columns}",
            columns=unknown,
        )
    # Every check passed on these exact bytes: when this process folds them into their window
    # (its compactor, soon after), it takes this profile, or decodes them without checking their
    # sketches again.
    remember(blob, profile)
    return profile


def check_rows(spec: ModelSpec, blob: bytes, *, labels: bool) -> pa.Table:
    """The rows in `blob` (Arrow IPC), of the model's columns, with UTC times and unique ids."""
    table = ipc_to_table(blob)
    names = table.schema.names  # read once: each `column_names` builds a new list
    if len(set(names)) != len(names):
        repeated = sorted(_repeated(names))
        raise InvalidInputError(
            f"rows have column(s) {repeated} more than once; send each column once",
            columns=repeated,
        )
    allowed = {ID_COLUMN, TIMESTAMP_COLUMN}
    allowed |= {LABEL_COLUMN} if labels else {VERSION_COLUMN, *spec.row_columns}
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise InvalidInputError(
            f"rows have column(s) {unknown} that model {spec.name!r} does not take; "
            f"allowed: {sorted(allowed)}",
            columns=unknown,
        )
    required = [TIMESTAMP_COLUMN]
    if labels or spec.id_column:
        required.append(ID_COLUMN)
    if labels:
        required.append(LABEL_COLUMN)
    missing = [c for c in required if c not in names]
    if missing:
        raise InvalidInputError(f"rows lack required column(s) {missing}", columns=missing)
    if labels and not spec.id_column:
        raise InvalidInputError(
            f"model {spec.name!r} has no id column, so labels cannot be joined to its predictions"
        )
    index = names.index(TIMESTAMP_COLUMN)
    timestamps = table.column(index)
    if not pa.types.is_timestamp(timestamps.type) or timestamps.null_count:
        raise InvalidInputError(
            f"{TIMESTAMP_COLUMN} must be a timestamp column without nulls, "
            f"got {timestamps.type} with {timestamps.null_count} null(s)"
        )
    if timestamps.type != TIMESTAMP_TYPE:
        table = table.set_column(index, TIMESTAMP_COLUMN, pc.cast(timestamps, TIMESTAMP_TYPE))
    if ID_COLUMN in names:
        index = names.index(ID_COLUMN)
        ids = table.column(index)
        if ids.null_count:
            raise InvalidInputError(
                f"{ID_COLUMN} has {ids.null_count} null(s); every row needs an id"
            )
        if not pa.types.is_string(ids.type):
            ids = pc.cast(ids, pa.string())
            table = table.set_column(index, ID_COLUMN, ids)
        _refuse_duplicate_ids(ids, labels=labels)
    return table


def _repeated(names: list[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for name in names:
        (repeated if name in seen else seen).add(name)
    return repeated


def _refuse_duplicate_ids(ids: pa.ChunkedArray, *, labels: bool) -> None:
    """One upload names each row once: the same id twice (two predictions, or two labels, for
    one row) is refused, naming the id, rather than one silently winning the join."""
    distinct = len(pc.unique(ids))
    if distinct == len(ids):
        return
    counts = pc.value_counts(ids).flatten()
    repeated = pc.filter(counts[0], pc.greater(counts[1], 1))
    first = repeated[0].as_py()
    what = "each row's label" if labels else "each row"
    raise InvalidInputError(
        f"{ID_COLUMN} {first!r} appears more than once in this upload ({len(ids) - distinct} "
        f"repeated ids); send {what} once",
        id=first,
        repeated=len(ids) - distinct,
    )


def check_segment(spec: ModelSpec, key: str, index: int) -> str:
    """A segment key `"<column>=<value>"` naming one of the model's segment columns."""
    if key == "":
        return key
    column, sep, value = key.partition("=")
    if not sep or column not in spec.segments:
        raise InvalidInputError(
            f"profile #{index} has segment key {key!r}; it must be '<column>=<value>' with a "
            f"segment column of model {spec.name!r} ({spec.segments})",
            segment=key,
        )
    if len(key) > SEGMENT_KEY_LENGTH:
        raise InvalidInputError(
            f"profile #{index} has a segment key of {len(key)} characters; at most "
            f"{SEGMENT_KEY_LENGTH} are kept (column {column!r}, value {value[:40]!r}...)",
            segment=key[:100],
        )
    return key
