"""The data of bench_scale.py: the 25 columns of bench_profile.py (20 float64, 5 strings) from one
seeded generator, written to Parquet in row groups of ROW_GROUP rows by a process that holds one
row group at a time, and the exact facts the contenders' profiles are checked against (row and
null counts, means, exact quantiles of three columns, distinct counts) in a JSON file beside it.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_profile import CARDINALITIES, NULL_SHARES, QS, numeric_names, string_names
from common import DATA_DIR

SEED = 20_261_124
DATA_VERSION = 1
ROW_GROUP = 1_000_000
EXACT_QUANTILE_COLUMNS = ("x00", "x01", "x02")
"""Columns whose exact quantiles are computed after writing (one shape each: normal, lognormal
with 1% nulls, uniform with 5% nulls); sorting 100M values per column is why not all 20."""
QUANTILE_GRID = 2001


def data_path(rows: int) -> Path:
    return DATA_DIR / f"scale-{rows}rows-seed{SEED}-v{DATA_VERSION}.parquet"


def facts_path(data: Path) -> Path:
    return data.with_name(data.name + ".facts.json")


def _chunks(rows: int) -> Iterator[Any]:
    """The data as pyarrow tables of at most ROW_GROUP rows, from one seeded generator: the 25
    columns of bench_profile.py (every category appears at least once)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    labels = {
        name: pa.array([f"{name}_v{j:05d}" for j in range(cardinality)])
        for cardinality, name in zip(CARDINALITIES, string_names(), strict=True)
    }
    weights = {}
    for cardinality in CARDINALITIES:
        w = 1.0 / np.arange(1, cardinality + 1) ** 0.8
        weights[cardinality] = w / w.sum()
    done = 0
    while done < rows:
        n = min(ROW_GROUP, rows - done)
        arrays: dict[str, Any] = {}
        for i, name in enumerate(numeric_names()):
            shape = i % 3
            if shape == 0:
                values = rng.normal(loc=i, scale=1.0 + i, size=n)
            elif shape == 1:
                values = rng.lognormal(mean=0.0, sigma=1.0, size=n)
            else:
                values = rng.uniform(-100.0, 100.0, size=n)
            nulls = rng.random(n) < NULL_SHARES[i % len(NULL_SHARES)]
            arrays[name] = pa.array(values, mask=nulls)
        for cardinality, name in zip(CARDINALITIES, string_names(), strict=True):
            codes = rng.choice(cardinality, size=n, p=weights[cardinality])
            nulls = rng.random(n) < 0.01
            if done == 0:
                codes[:cardinality] = rng.permutation(cardinality)
                nulls[:cardinality] = False
            arrays[name] = labels[name].take(pa.array(np.where(nulls, -1, codes), mask=nulls))
        done += n
        yield pa.table(arrays)


def build(rows: int) -> Path:
    """Write the data file in row groups of ROW_GROUP rows, then its facts; in this process,
    which the parent starts niced and separate from the measurements."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = data_path(rows)
    if path.exists() and facts_path(path).exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    started = time.perf_counter()
    sums: dict[str, list[float]] = {name: [] for name in numeric_names()}
    valid = dict.fromkeys(numeric_names() + string_names(), 0)
    writer = None
    written = 0
    for table in _chunks(rows):
        if writer is None:
            writer = pq.ParquetWriter(partial, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
        for name in numeric_names():
            column = table.column(name)
            sums[name].append(float(pc.sum(column).as_py()))
        for name in valid:
            valid[name] += len(table.column(name)) - table.column(name).null_count
        written += table.num_rows
        if written % (10 * ROW_GROUP) == 0:
            print(f"  {written:,} rows, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    assert writer is not None
    writer.close()
    print(f"wrote {partial} in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    quantiles = {}
    grid = np.linspace(0.0, 1.0, QUANTILE_GRID)
    for name in EXACT_QUANTILE_COLUMNS:
        values = pq.read_table(partial, columns=[name]).column(name).drop_null().to_numpy()
        values.sort()
        quantiles[name] = {
            "exact": [float(v) for v in np.quantile(values, QS, method="inverted_cdf")],
            "grid": [
                float(v)
                for v in values[np.minimum((grid * values.size).astype(np.int64), values.size - 1)]
            ],
        }
        del values
    facts = {
        "rows": rows,
        "valid": valid,
        "means": {name: math.fsum(parts) / valid[name] for name, parts in sums.items()},
        "quantiles": quantiles,
        "distinct": {name: c for c, name in zip(CARDINALITIES, string_names(), strict=True)},
        "bytes": partial.stat().st_size,
        "row_groups": pq.ParquetFile(partial).metadata.num_row_groups,
    }
    facts_path(path).write_text(json.dumps(facts, indent=1))
    partial.rename(path)
    print(
        f"built {path} ({facts['bytes'] / 2**30:.1f} GiB) in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return path
