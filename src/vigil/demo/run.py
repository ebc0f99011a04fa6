"""`vigil demo`: generate data, profile training and each production day, and show what changed."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vigil.analysis.drift import drift
from vigil.analysis.validation import suggest_checks
from vigil.demo.data import (
    DRIFT_DAY,
    V1_REGISTERED,
    V2_REGISTERED,
    history,
    production_week,
    training_set,
)
from vigil.demo.training import train_and_register
from vigil.lifecycle.cadence import retraining_cadence
from vigil.monitor.demo import run_demo_monitors
from vigil.profile import DatasetProfile, NumericColumn, StringColumn, profile
from vigil.store.core import Store

Echo = Callable[[str], None]

WATCHED_NUMERIC = ("monthly_charges", "tenure_months", "churn_score")
WATCHED_MISSING = "income"
WATCHED_CATEGORY = ("contract", "month-to-month")
NEW_CATEGORY_COLUMN = "payment_method"
DEMO_ROLES: dict[str, Any] = {
    "prediction_columns": ["churn_score", "churn_predicted"],
    "target_columns": ["churned"],
}


def run_demo(out_dir: Path, *, rows: int, seed: int, echo: Echo) -> tuple[str, str]:
    """Generate, profile, log, train, register and monitor; returns the demo store's URLs
    (metadata, artifacts), which `vigil demo` then serves."""
    out_dir.mkdir(parents=True, exist_ok=True)
    echo(f"Vigil demo: a churn model, {rows:,} training rows and a week of production traffic")
    echo(f"(drift begins on production day {DRIFT_DAY + 1}); files in {out_dir}/\n")

    training_path = out_dir / "training.parquet"
    pq.write_table(training_set(rows, seed), training_path)
    reference = profile(training_path)
    (out_dir / "training.vgp").write_bytes(reference.to_bytes())
    echo("== Training data profile")
    echo(reference.summary())

    store_dir = out_dir / "store"
    shutil.rmtree(store_dir, ignore_errors=True)  # the demo starts from a clean store each time
    store_dir.mkdir(parents=True)
    store_url, artifacts_url = f"sqlite:///{store_dir / 'vigil.db'}", str(store_dir / "artifacts")
    store = Store.open(store_url, artifacts_url)
    try:
        train_and_register(
            training_path,
            reference,
            store,
            DEMO_MODEL,
            echo,
            registered=(V1_REGISTERED, V2_REGISTERED),
        )
    finally:
        store.close()

    days: list[tuple[dt.datetime, DatasetProfile]] = []
    week_tables = production_week(rows_per_day=max(rows // 4, 100), seed=seed)
    for start, table in week_tables:
        path = out_dir / f"production-{start:%Y-%m-%d}.parquet"
        pq.write_table(table, path)
        day_profile = profile(path, window=(start, start + dt.timedelta(days=1)))
        (out_dir / f"production-{start:%Y-%m-%d}.vgp").write_bytes(day_profile.to_bytes())
        days.append((start, day_profile))

    earlier = history(rows_per_day=max(rows // 4, 100), seed=seed)
    _log_through_client(store_url, artifacts_url, earlier, week_tables, echo)
    store = Store.open(store_url, artifacts_url)
    try:
        week_start, week_end = week_tables[0][0], week_tables[-1][0] + dt.timedelta(days=1)
        _, alerts_text = run_demo_monitors(store, DEMO_MODEL, reference, week_start, week_end)
        cadence = retraining_cadence(store, DEMO_MODEL)
    finally:
        store.close()

    echo("\n== Production week, day by day, against training")
    echo(_daily_table(reference, days))
    week = DatasetProfile.merge_all(p for _, p in days)
    echo(f"\nThe week merged from daily profiles: {week!r}")
    echo(f"Profile size: {len(week.to_bytes()):,} bytes for {week.n_rows:,} rows.")

    before, after = days[:DRIFT_DAY], days[DRIFT_DAY:]
    for title, chosen in (
        (f"days {DRIFT_DAY + 1}-{len(days)} (after the change)", after),
        (f"days 1-{DRIFT_DAY} (before the change)", before),
    ):
        merged = DatasetProfile.merge_all(p for _, p in chosen)
        report = drift(reference, merged, **DEMO_ROLES)
        echo(f"\n== Drift report: production {title} against training, from profiles")
        echo(report.summary())

    suite = suggest_checks(reference, window_rows=min(p.n_rows for _, p in days))
    suite_path = out_dir / "checks.yaml"
    suite.save(suite_path)
    echo(f"\n== Data checks suggested from training ({len(suite.checks)} checks, in {suite_path})")
    for start, day_profile in (days[0], days[-1]):
        result = suite.validate(day_profile)
        echo(f"\n{start:%a %d %b}: " + result.summary())

    echo("\n== Monitors on the logged week (training data as the reference)")
    echo(alerts_text)

    echo(
        f"\n== Retraining cadence over {cadence.windows} days, each against the training "
        "profile of the version serving it"
    )
    for v in cadence.versions:
        began = f"drift began {v.drift_began:%a %d %b}" if v.drift_began else "no lasting drift"
        echo(
            f"  v{v.version} (trained {v.trained_at:%a %d %b}): {v.drifted_windows} of "
            f"{v.windows} days drifted; {began}"
        )
    echo(cadence.advice)
    return store_url, artifacts_url


DEMO_MODEL = "churn"


def _log_through_client(
    store_url: str,
    artifacts_url: str,
    earlier: list[tuple[dt.datetime, pa.Table]],
    week: list[tuple[dt.datetime, pa.Table]],
    echo: Echo,
) -> None:
    """Log the week as a serving process would: through the client, into the embedded store."""
    from vigil.client import Client
    from vigil.progress import track

    client = Client.local(store_url, artifacts_url)
    try:
        client.create_model(
            DEMO_MODEL,
            features=[
                c for c in week[0][1].column_names if c not in NOT_FEATURES and c not in SEGMENTS
            ],
            predictions=["churn_predicted"],
            scores=["churn_score"],
            segments=list(SEGMENTS),
            id_column="customer_id",
            timestamp_column="seen_at",
            target_column="churned",
            registry_model=DEMO_MODEL,
        )
        days = [*earlier, *week]
        for start, table in track(days, desc="logging production days", unit="day"):
            # The serving process knows its version: v2 from its registration on.
            version = "v1" if start < V2_REGISTERED else "v2"
            client.log(DEMO_MODEL, table.drop_columns(["churned"]), version=version)
            # Ground truth arrives a day later; the last day has none yet (label coverage).
            if start < week[-1][0]:
                client.log_labels(
                    DEMO_MODEL,
                    table["customer_id"],
                    table["churned"],
                    timestamp=start + dt.timedelta(days=1),
                )
            churned = pc.mean(pc.cast(table["churned"], pa.float64())).as_py()
            client.log_kpi(
                "retained_customers_share",
                round(1.0 - churned, 4),
                timestamp=start + dt.timedelta(hours=23),
                model=DEMO_MODEL,
                version=version,
            )
        windows = client.data.windows(DEMO_MODEL)
        client.flush()
    finally:
        client.close()
    week_hours = sorted(w.n_rows for w in windows if w.start >= week[0][0])
    echo(
        f"\n== Logged through vigil.Client into the embedded store ({store_url}): "
        f"{len(windows)} hourly windows over {len(earlier) + len(week)} days; the week: "
        f"{len(week_hours)} hourly windows, {sum(week_hours):,} rows, "
        f"{week_hours[0]}-{week_hours[-1]} rows an hour (median {week_hours[len(week_hours) // 2]}); "
        "labels a day later, a daily KPI"
    )


SEGMENTS = ("region",)
"""Per-segment windows and performance (and fairness across regions) on the dashboard."""
NOT_FEATURES = frozenset({"customer_id", "seen_at", "churn_score", "churn_predicted", "churned"})


def _daily_table(reference: DatasetProfile, days: list[tuple[dt.datetime, DatasetProfile]]) -> str:
    header = ["day", "rows"]
    header += [f"mean {c}" for c in WATCHED_NUMERIC]
    header += [f"{WATCHED_MISSING} missing", f"{WATCHED_CATEGORY[1]} share", "new payment methods"]
    known = {value for value, _ in _string(reference, NEW_CATEGORY_COLUMN).top(1000)}
    rows = [["training", f"{reference.n_rows:,}", *_row(reference, known)]]
    for start, day in days:
        rows.append([f"{start:%a %d %b}", f"{day.n_rows:,}", *_row(day, known)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _row(p: DatasetProfile, known: set[str]) -> list[str]:
    cells = [f"{_numeric(p, c).mean:.2f}" for c in WATCHED_NUMERIC]
    income = _numeric(p, WATCHED_MISSING)
    cells.append(f"{income.missing_count / income.count:.1%}")
    contract = _string(p, WATCHED_CATEGORY[0])
    cells.append(
        f"{contract.categories.count(WATCHED_CATEGORY[1]) / contract.categories.total:.1%}"
    )
    new = sorted({v for v, _ in _string(p, NEW_CATEGORY_COLUMN).top(1000)} - known)
    cells.append(", ".join(new) or "-")
    return cells


def _numeric(p: DatasetProfile, name: str) -> NumericColumn:
    column = p.columns[name]
    if not isinstance(column, NumericColumn):
        raise TypeError(f"demo column {name!r} should be numeric, is {column.kind.value}")
    return column


def _string(p: DatasetProfile, name: str) -> StringColumn:
    column = p.columns[name]
    if not isinstance(column, StringColumn):
        raise TypeError(f"demo column {name!r} should be categorical, is {column.kind.value}")
    return column
