"""Synthetic tables for the drift tests: 25 columns of mixed kinds and shapes, from a seed."""

from __future__ import annotations

from typing import Any

import numpy as np

CATS_4 = np.array(["a", "b", "c", "d"])
CATS_4_P = np.array([0.4, 0.3, 0.2, 0.1])
CATS_30 = np.array([f"v{i:02d}" for i in range(30)])
CATS_30_P = np.arange(30, 0, -1) / np.arange(30, 0, -1).sum()


def null_table(n: int, seed: int) -> dict[str, Any]:
    """25 columns: 15 numeric (normal, heavy-tailed, skewed, discrete, with missing values),
    7 categorical (2 to 30 values), 3 boolean."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i in range(3):
        cols[f"normal_{i}"] = rng.normal(10 * i, 1 + i, n)
    for i in range(2):
        cols[f"lognormal_{i}"] = rng.lognormal(0, 0.5 + 0.5 * i, n)
    cols["exponential"] = rng.exponential(2.0, n)
    cols["uniform"] = rng.uniform(-1, 1, n)
    cols["student_t3"] = rng.standard_t(3, n)
    cols["poisson_2"] = rng.poisson(2, n).astype(np.int64)
    cols["poisson_30"] = rng.poisson(30, n).astype(np.int64)
    cols["binomial"] = rng.binomial(10, 0.3, n).astype(np.int64)
    cols["bimodal"] = np.where(rng.random(n) < 0.3, rng.normal(-2, 0.5, n), rng.normal(2, 1, n))
    with_nan = rng.normal(0, 1, n)
    with_nan[rng.random(n) < 0.1] = np.nan
    cols["normal_missing"] = with_nan
    cols["gamma"] = rng.gamma(0.5, 1.0, n)
    cols["rounded"] = rng.normal(50, 10, n).round()
    cols["cat_2"] = rng.choice(np.array(["x", "y"]), n, p=[0.7, 0.3])
    cols["cat_4"] = rng.choice(CATS_4, n, p=CATS_4_P)
    cols["cat_30"] = rng.choice(CATS_30, n, p=CATS_30_P)
    cols["cat_5_even"] = rng.choice(np.array(list("pqrst")), n)
    cols["cat_rare"] = rng.choice(np.array(["common", "mid", "rare"]), n, p=[0.9, 0.09, 0.01])
    cols["cat_10"] = rng.choice(np.array([f"k{i}" for i in range(10)]), n)
    cols["cat_3"] = rng.choice(np.array(["u", "v", "w"]), n, p=[0.5, 0.3, 0.2])
    cols["bool_half"] = rng.random(n) < 0.5
    cols["bool_rare"] = rng.random(n) < 0.05
    cols["bool_70"] = rng.random(n) < 0.7
    assert len(cols) == 25
    return cols


def with_drift(table: dict[str, Any], kind: str, seed: int) -> dict[str, Any]:
    """A copy of `table` with one real change: `mean` (normal_0 shifted by 0.1 std), `variance`
    (normal_1's variance times 1.3) or `category` (10% of cat_4's largest category moved to the
    second)."""
    out = dict(table)
    rng = np.random.default_rng(seed)
    if kind == "mean":
        x = out["normal_0"]
        out["normal_0"] = x + 0.1 * 1.0  # normal_0 has std 1
    elif kind == "variance":
        x = out["normal_1"]
        out["normal_1"] = 10.0 + (x - 10.0) * np.sqrt(1.3)
    elif kind == "category":
        x = out["cat_4"].copy()
        move = (x == "a") & (rng.random(x.size) < 0.1)
        x[move] = "b"
        out["cat_4"] = x
    else:
        raise ValueError(kind)
    return out


DRIFTED_COLUMN = {"mean": "normal_0", "variance": "normal_1", "category": "cat_4"}
