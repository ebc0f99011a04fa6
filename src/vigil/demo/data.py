"""A realistic synthetic churn dataset: a training set, and a production week in which drift starts
mid-week. Generated with NumPy from a seed; nothing is downloaded.

The story's calendar: training data up to the evening `V1_REGISTERED`, when version 1 is
registered and served; version 2 replaces it at `V2_REGISTERED`; traffic runs from the day after
v1's registration (`history`, then the production week) to the end of `production_week`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["card", "bank-transfer", "paypal", "invoice"]
REGIONS = ["north", "south", "east", "west", "central", "coast", "mountain", "islands"]
PLANS = ["basic", "standard", "premium"]

WEEK_START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
"""The production week's first day."""
HISTORY_DAYS = 23
"""Days of ordinary traffic logged before the production week, so the store holds 30 days."""
V1_REGISTERED = WEEK_START - dt.timedelta(days=HISTORY_DAYS, hours=6)
"""Version 1 registered (and @production) the evening before the first day of traffic."""
V2_REGISTERED = V1_REGISTERED + dt.timedelta(days=15)
"""Version 2 registered and @production, mid-way: the second half of the traffic is its."""

DRIFT_DAY = 3
"""Production days 0..2 look like training; from day 3 on, charges rise, contracts shift toward
month-to-month, a new payment method appears and income goes missing more often."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


def customers(
    n: int, rng: np.random.Generator, *, start: dt.datetime, hours: float, drift: float = 0.0
) -> pa.Table:
    """`n` customer rows with model features, a churn score and (for reference) the true label.

    `drift` in [0, 1] scales how far the production distribution has moved from training.
    """
    age = np.clip(rng.normal(41 - 6 * drift, 12, n), 18, 90).round()
    tenure = np.clip(rng.gamma(2.0, 14.0 * (1 - 0.45 * drift), n), 0, 120).round()
    income = rng.lognormal(10.6, 0.45, n).round(-1)
    income[rng.random(n) < 0.02 + 0.18 * drift] = np.nan
    charges = np.clip(rng.normal(64 * (1 + 0.25 * drift), 22, n), 15, 200).round(2)
    calls = rng.poisson(1.2 + 1.2 * drift, n)
    contract_p = np.array([0.45 + 0.35 * drift, 0.30 - 0.17 * drift, 0.25 - 0.18 * drift])
    contract = rng.choice(CONTRACTS, n, p=contract_p / contract_p.sum())
    payment_p = np.array([0.4, 0.3, 0.2, 0.1]) * (1 - 0.1 * drift)
    payments = [*PAYMENTS, "crypto"] if drift > 0 else PAYMENTS
    if drift > 0:
        payment_p = np.append(payment_p, 0.1 * drift)
    payment = rng.choice(payments, n, p=payment_p / payment_p.sum())
    region = rng.choice(REGIONS, n, p=[0.2, 0.18, 0.15, 0.15, 0.12, 0.1, 0.06, 0.04])
    plan = rng.choice(PLANS, n, p=[0.5, 0.35, 0.15])
    paperless = rng.random(n) < 0.6
    offsets = np.sort(rng.uniform(0, hours * 3600, n))
    seen = np.datetime64(start.replace(tzinfo=None), "us") + (offsets * 1e6).astype(
        "timedelta64[us]"
    )

    logit = (
        -1.2
        + 1.1 * (contract == "month-to-month")
        - 0.035 * tenure
        + 0.018 * (charges - 64)
        + 0.35 * calls
        - 0.4 * paperless
    )
    churn_p = _sigmoid(logit)
    churned = rng.random(n) < churn_p
    # The model learned the relationship on training data; in production its score follows the
    # same formula, so shifted inputs shift the predictions (prediction drift).
    score = np.clip(churn_p + rng.normal(0, 0.05, n), 0, 1).round(4)
    return pa.table(
        {
            "customer_id": pa.array(_unique_ids(rng.integers(0, 10**8, n))),
            "seen_at": pa.array(seen, type=pa.timestamp("us", tz="UTC")),
            "age": age,
            "tenure_months": tenure.astype(np.int64),
            "income": pa.array(income, from_pandas=True),
            "monthly_charges": charges,
            "support_calls": calls.astype(np.int64),
            "contract": contract,
            "payment_method": payment,
            "region": region,
            "plan": plan,
            "paperless_billing": paperless,
            "churn_score": score,
            "churn_predicted": score >= 0.5,
            "churned": churned,
        }
    )


def _unique_ids(values: np.ndarray) -> list[str]:
    """Customer ids, each once per table: a repeated draw gets a suffix (an upload names each
    row once; the server refuses an id twice in one upload)."""
    seen: dict[int, int] = {}
    ids = []
    for value in values.tolist():
        repeats = seen.get(value, 0)
        seen[value] = repeats + 1
        ids.append(f"C{value:08d}" if repeats == 0 else f"C{value:08d}-{repeats}")
    return ids


def training_set(rows: int, seed: int) -> pa.Table:
    """`rows` customers of the 60 days before version 1's registration."""
    rng = np.random.default_rng(seed)
    start = V1_REGISTERED - dt.timedelta(days=60)
    return customers(rows, rng, start=start, hours=24 * 60)


def production_week(rows_per_day: int, seed: int) -> list[tuple[dt.datetime, pa.Table]]:
    """Seven days of traffic; drift ramps up from `DRIFT_DAY` and is full by the last day."""
    rng = np.random.default_rng(seed + 1)
    first = WEEK_START
    days = []
    for day in range(7):
        drift = 0.0 if day < DRIFT_DAY else (day - DRIFT_DAY + 1) / (7 - DRIFT_DAY)
        start = first + dt.timedelta(days=day)
        n = int(rows_per_day * rng.uniform(0.9, 1.1))
        days.append((start, customers(n, rng, start=start, hours=24, drift=drift)))
    return days


def history(
    rows_per_day: int, seed: int, days: int = HISTORY_DAYS
) -> list[tuple[dt.datetime, pa.Table]]:
    """`days` days of traffic like training, ending where the production week starts."""
    rng = np.random.default_rng(seed + 2)
    first = WEEK_START - dt.timedelta(days=days)
    out = []
    for day in range(days):
        start = first + dt.timedelta(days=day)
        n = int(rows_per_day * rng.uniform(0.9, 1.1))
        out.append((start, customers(n, rng, start=start, hours=24)))
    return out
