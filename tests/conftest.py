"""Shared fixtures: seeded data makers used across the suite; one thread per native pool."""

from __future__ import annotations

import os

# Each xdist worker runs one test at a time, and the suite runs as many workers as the machine
# has cores. OpenMP (scikit-learn, LightGBM, XGBoost) and OpenBLAS otherwise start one thread per
# core in every worker and in every server the tests start, and their threads spin while they
# wait: a HistGradientBoosting fit of 3,000 rows took 30 s of CPU instead of 1 s on a busy 2-core
# machine. Set before NumPy and the OpenMP runtimes load (they read it once), and inherited by the
# servers and commands the tests start (test_native_threads.py checks both). A value already set
# wins.
for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import warnings  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest  # noqa: E402

from tests.store.migrated import migrated_sqlite  # noqa: E402
from tests.store.pg import sessions_left_open  # noqa: E402

__all__ = ["migrated_sqlite"]


def mixed_table(n: int, seed: int = 0) -> pa.Table:
    """A table with every common kind, nulls, NaN and infinities."""
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, n)
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.01] = np.inf
    y = rng.lognormal(0, 1, n)
    ints = rng.integers(-50, 50, n)
    cats = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    cat_mask = rng.random(n) < 0.1
    flags = rng.random(n) < 0.3
    ts = np.datetime64("2026-01-01T00:00:00", "us") + rng.integers(0, 10**12, n).astype(
        "timedelta64[us]"
    )
    return pa.table(
        {
            "x": pa.array(x),
            "y": pa.array(y, mask=rng.random(n) < 0.02),
            "ints": pa.array(ints),
            "cat": pa.array(cats, mask=cat_mask),
            "flag": pa.array(flags),
            "ts": pa.array(ts, type=pa.timestamp("us")),
        }
    )


@pytest.fixture
def table() -> pa.Table:
    return mixed_table(20_000)


@pytest.fixture(autouse=True)
def _no_session_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, a session it left idle in a transaction on this process's PostgreSQL test
    database (it would hold locks the next test waits on) is named in a warning with the test."""
    yield
    left = sessions_left_open()
    if left:
        warnings.warn(
            f"{request.node.nodeid} left {len(left)} session(s) idle in a transaction: "
            + "; ".join(f"{database}: {query}" for database, query in left),
            stacklevel=1,
        )
