"""Issue 19: `DatasetProfile.merge_all` over a window's parts, one pass per column against the
pairwise fold it replaced (`merge` folded in order: what `merge_all` was before), in one process,
alternating, on the same decoded profiles.

    .venv/bin/python benchmarks/bench_merge_all.py [--parts 64] [--rows 2000] [--repeats 15]

The window profile has 50 columns as a model's features come: 30 numeric (floats and integers),
12 categorical (most with a few dozen values, two with hundreds, one past the exact limit of
1,000 values: frequent-items and CPC), 4 boolean, 2 timestamps, 2 text. Each part is a log call's
profile of `--rows` rows, encoded and decoded as the compactor reads it. Reported: CPU time per
merge (median over repeats; the machine is shared, so CPU rather than wall), with and without
encoding the result (a fold encodes it), the ratio, and checks that both agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import statistics
import time

import numpy as np
import pyarrow as pa

import vigil
from common import Machine, git_revision, load_average
from vigil.profile import DatasetProfile

DAY = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def part(seed: int, rows: int) -> DatasetProfile:
    rng = np.random.default_rng(seed)
    data: dict[str, pa.Array] = {}
    for i in range(20):
        values = rng.normal(i, 1 + i % 5, rows)
        values[rng.random(rows) < 0.02] = np.nan
        data[f"f{i:02d}"] = pa.array(values)
    for i in range(10):
        data[f"n{i:02d}"] = pa.array(rng.poisson(3 + i, rows))
    for i in range(12):
        size = 5000 if i == 0 else (400 if i < 3 else 30)
        codes = rng.zipf(1.2, rows) % size if i == 0 else rng.integers(0, size, rows)
        data[f"c{i:02d}"] = pa.array([f"value-{c}" for c in codes]).dictionary_encode()
    for i in range(4):
        data[f"b{i}"] = pa.array(rng.random(rows) < 0.1 * (i + 1))
    for i in range(2):
        seconds = rng.integers(0, 3600, rows)
        stamps = [DAY + dt.timedelta(seconds=int(s)) for s in seconds]
        data[f"t{i}"] = pa.array(stamps, type=pa.timestamp("us", tz="UTC"))
    for i in range(2):
        words = rng.integers(0, 10_000, rows)
        data[f"x{i}"] = pa.array([f"free text number {w} " * (1 + w % 4) for w in words])
    schema = {f"x{i}": "text" for i in range(2)} | {f"c{i:02d}": "categorical" for i in range(12)}
    return vigil.profile(pa.table(data), schema=schema, window=(DAY, DAY + dt.timedelta(hours=1)))


def pairwise(profiles: list[DatasetProfile]) -> DatasetProfile:
    """`merge_all` before issue 19's one-pass merge."""
    return functools.reduce(DatasetProfile.merge, profiles, DatasetProfile.empty())


def cpu(call: object, profiles: list[DatasetProfile], encode: bool) -> float:
    started = time.process_time()
    merged = call(profiles)  # type: ignore[operator]
    if encode:
        merged.to_bytes()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=64)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    blobs = [part(seed, args.rows).to_bytes() for seed in range(args.parts)]
    profiles = [DatasetProfile.from_bytes(b) for b in blobs]
    assert len(profiles[0].columns) == 50
    encoded = [p.to_bytes() for p in profiles]  # (not `blobs`: decoding sorts some KLL levels)
    load_before = load_average()
    contenders = {"pairwise (before)": pairwise, "merge_all (one pass)": DatasetProfile.merge_all}
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(args.repeats):
        for encode in (False, True):
            for name, call in contenders.items():
                times.setdefault((name, encode), []).append(cpu(call, profiles, encode))
    load_after = load_average()
    old, new = pairwise(profiles), DatasetProfile.merge_all(profiles)
    assert [p.to_bytes() for p in profiles] == encoded, "an input changed"
    assert old.n_rows == new.n_rows == args.parts * args.rows
    for name in ("f00", "n00", "c00", "c05", "b0", "x0"):
        a, b = old.columns[name].to_dict(), new.columns[name].to_dict()
        a.pop("quantiles", None)
        b.pop("quantiles", None)
        assert a == b, (name, a, b)
    print(f"{Machine.here().markdown()}; load {load_before:.1f} -> {load_after:.1f}")
    print(f"commit {git_revision()}; {args.parts} parts x {args.rows} rows, 50 columns, ", end="")
    print(f"{sum(map(len, blobs)) / len(blobs) / 1024:.1f} KiB a part; {args.repeats} repeats\n")
    print(
        f"| merging {args.parts} decoded parts | pairwise (before) | merge_all | after / before |"
    )
    print("|---|---|---|---|")
    for encode in (False, True):
        before = statistics.median(times[("pairwise (before)", encode)])
        after = statistics.median(times[("merge_all (one pass)", encode)])
        what = "merge and encode (a fold)" if encode else "merge only"
        print(f"| {what}, CPU ms | {before * 1e3:.1f} | {after * 1e3:.1f} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
