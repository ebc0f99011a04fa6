"""The data of bench_drift.py: reference and current Parquet files from one generator with different
seeds, 20 float64 columns (normal, lognormal, uniform; 0, 1 or 5% nulls) and 5 string columns of
cardinality 5 to 10,000, with drift planted in six columns of the current file (`PLANTED`)."""

from __future__ import annotations

from pathlib import Path

SEED = 20_261_123
N_NUMERIC = 20
CARDINALITIES = (5, 50, 500, 5_000, 10_000)
NULL_SHARES = (0.0, 0.01, 0.05)
DATA_VERSION = 1

# The truth: what the current file changes, column by column; every other column is drawn from
# the same distribution as in the reference (an independent sample).
PLANTED = {
    "x00": "mean + 0.1 std (normal)",
    "x04": "mean + 0.1 std (lognormal)",
    "x06": "variance x 1.3 (normal)",
    "x08": "missing share 5% -> 15% (uniform)",
    "c5": "10% of the top category's rows moved to the second (0.40/0.30 -> 0.36/0.34)",
    "c50": "new category in 5% of rows",
}
C5_SHARES = (0.40, 0.30, 0.15, 0.10, 0.05)
LOGNORMAL_STD = 2.1611974158950877  # std of lognormal(0, 1): sqrt((e - 1) e)


def numeric_names() -> list[str]:
    return [f"x{i:02d}" for i in range(N_NUMERIC)]


def string_names() -> list[str]:
    return [f"c{c}" for c in CARDINALITIES]


def all_names() -> list[str]:
    return numeric_names() + string_names()


def build_dataset(path: Path, rows: int, current: bool) -> None:
    """20 float64 columns (normal, lognormal, uniform; 0, 1 or 5% nulls) and 5 string columns of
    cardinality 5 to 10,000 (1% nulls); the current file (its own seed) with `PLANTED` applied."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED + int(current))
    arrays: dict[str, pa.Array] = {}
    for i, name in enumerate(numeric_names()):
        shape = i % 3
        if shape == 0:
            loc, scale = float(i), 1.0 + i
            values = rng.normal(loc=loc, scale=scale, size=rows)
            if current and name == "x00":
                values += 0.1 * scale
            if current and name == "x06":
                values = loc + (values - loc) * np.sqrt(1.3)
        elif shape == 1:
            values = rng.lognormal(mean=0.0, sigma=1.0, size=rows)
            if current and name == "x04":
                values += 0.1 * LOGNORMAL_STD
        else:
            values = rng.uniform(-100.0, 100.0, size=rows)
        null_share = NULL_SHARES[(i // 3) % len(NULL_SHARES)]
        if current and name == "x08":
            null_share += 0.10
        nulls = rng.random(rows) < null_share
        arrays[name] = pa.array(values, mask=nulls)
    for cardinality, name in zip(CARDINALITIES, string_names(), strict=True):
        if name == "c5":
            weights = np.asarray(C5_SHARES)
        else:
            weights = 1.0 / np.arange(1, cardinality + 1) ** 0.8
        codes = rng.choice(cardinality, size=rows, p=weights / weights.sum())
        labels = [f"{name}_v{j:05d}" for j in range(cardinality)]
        if current and name == "c5":
            top = np.flatnonzero(codes == 0)
            codes[top[rng.random(top.size) < 0.10]] = 1
        if current and name == "c50":
            labels.append(f"{name}_new")
            codes[rng.random(rows) < 0.05] = cardinality
        nulls = rng.random(rows) < 0.01
        arrays[name] = pa.array(labels).take(pa.array(np.where(nulls, -1, codes), mask=nulls))
    # pyarrow's defaults, as `DataFrame.to_parquet` would write it.
    pq.write_table(pa.table(arrays), path)
