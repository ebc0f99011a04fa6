"""Profiling a Parquet file or folder on every core: row groups are shared among worker
processes, each streams its share through the ordinary profiler, and the profiles are merged."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.errors import UnsupportedFormatError
from vigil.profile.profile import DatasetProfile
from vigil.profile.stream import profile_batches
from vigil.progress import bar
from vigil.schema import Schema

AUTO_MIN_ROWS = 2_000_000
"""Below this many rows, starting worker processes costs more than it saves."""


@dataclass(frozen=True, slots=True)
class Unit:
    """Some row groups of one Parquet file."""

    path: str
    row_groups: tuple[int, ...]
    rows: int


def plan(path: Path) -> list[Unit]:
    """One unit per row group of every Parquet file at `path` (a file or a folder)."""
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not p.name.startswith((".", "_")) and _has_magic(p)
        )
    else:
        files = [path]
    units = []
    for file in files:
        try:
            metadata = pq.ParquetFile(file).metadata
        except (pa.ArrowInvalid, OSError) as exc:
            raise UnsupportedFormatError(
                f"{str(file)!r} is not a readable Parquet file: {exc}", path=str(file)
            ) from None
        for index in range(metadata.num_row_groups):
            units.append(Unit(str(file), (index,), metadata.row_group(index).num_rows))
    return units


def _has_magic(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def choose_workers(units: Sequence[Unit], workers: int | None) -> int:
    if workers is not None:
        return max(1, min(workers, len(units)))
    if sum(u.rows for u in units) < AUTO_MIN_ROWS:
        return 1
    return max(1, min(os.cpu_count() or 1, len(units)))


def share(units: Sequence[Unit], workers: int) -> list[list[Unit]]:
    """Split units into `workers` lists of about equal rows (largest first, to the lightest)."""
    shares: list[list[Unit]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for unit in sorted(units, key=lambda u: -u.rows):
        lightest = loads.index(min(loads))
        shares[lightest].append(unit)
        loads[lightest] += unit.rows
    return [s for s in shares if s]


def profile_parallel(
    units: Sequence[Unit],
    workers: int,
    *,
    schema: Mapping[str, str],
    patterns: Mapping[str, Sequence[str]],
    batch_rows: int,
    progress: bool | None = None,
) -> DatasetProfile:
    """Each worker profiles its share of `units`; a bar counts the rows of the shares done."""
    jobs = share(units, workers)
    # fork, not spawn: spawn re-imports the caller's __main__, which breaks any script without an
    # `if __name__ == "__main__"` guard. Arrow re-initialises its thread pools after a fork.
    context = get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=context) as pool:
        futures = [
            pool.submit(
                _profile_share,
                job,
                dict(schema),
                {k: list(v) for k, v in patterns.items()},
                batch_rows,
            )
            for job in jobs
        ]
        rows = {
            future: sum(unit.rows for unit in job)
            for future, job in zip(futures, jobs, strict=True)
        }
        with bar(
            total=sum(rows.values()), desc="profiling", unit="rows", progress=progress
        ) as shown:
            for future in as_completed(futures):
                future.result()
                shown.update(rows[future])
        parts = [DatasetProfile.from_bytes(f.result()) for f in futures]
    return DatasetProfile.merge_all(parts)


def _profile_share(
    units: list[Unit], schema: dict[str, str], patterns: dict[str, list[str]], batch_rows: int
) -> bytes:
    first = pq.ParquetFile(units[0].path)

    def batches() -> Iterator[pa.RecordBatch]:
        for unit in units:
            yield from pq.ParquetFile(
                unit.path, buffer_size=1 << 20, pre_buffer=False
            ).iter_batches(batch_size=batch_rows, row_groups=list(unit.row_groups))

    reader = pa.RecordBatchReader.from_batches(first.schema_arrow, batches())
    parsed = Schema.coerce(schema)
    return profile_batches(reader, parsed, patterns, window=None, batch_rows=batch_rows).to_bytes()
