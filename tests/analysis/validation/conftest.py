"""Seeded tables for the validation tests: every kind a suggested suite covers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

CITIES = ["Oslo", "Lyon", "Rome", "Kyiv", "Lima"]
CITY_P = [0.35, 0.25, 0.2, 0.15, 0.05]


def sample(n: int, seed: int) -> pa.Table:
    """One sample of a fixed distribution; two seeds give two samples of the same data."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n).clip(18, 90).round()
    income = rng.gamma(2.0, 20_000, n)
    income[rng.random(n) < 0.05] = np.nan
    score = rng.uniform(0, 1, n)
    visits = rng.poisson(3, n)
    city = rng.choice(CITIES, n, p=CITY_P)
    plan = pa.array(rng.choice(["free", "pro"], n, p=[0.8, 0.2]), mask=rng.random(n) < 0.1)
    ids = [f"user-{seed}-{i}" for i in range(n)]
    emails = [f"u{i}@example.org" for i in range(n)]
    return pa.table(
        {
            "age": pa.array(age.astype(np.int64)),
            "income": pa.array(income),
            "score": pa.array(score),
            "visits": pa.array(visits),
            "city": pa.array(city),
            "plan": plan,
            "churned": pa.array(rng.random(n) < 0.2),
            "user_id": pa.array(ids),
            "email": pa.array(emails),
        }
    )


@pytest.fixture
def reference() -> pa.Table:
    return sample(3_000, seed=1)
