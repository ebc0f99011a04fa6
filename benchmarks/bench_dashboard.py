"""Dashboard page times on a large store: 100 features and 90 days of hourly windows.

Seeds a store (one model with 100 features: 80 numeric, 20 categorical; 2,160 hourly windows of
200 rows each, drift planted in 10 features from day 60; a KPI per hour for two versions; a
registered version with its training profile at @production; a daily data-drift monitor with its
alerts; 300 tracked runs), starts a real server on loopback, and times every page, the drift
heatmap by hour, day, week, month and quarter (the coarser cells measured on merged periods), and
the sections per month:

- server side: the full HTTP answer over loopback (httpx), median of 5, with the drift cache
  cold (a fresh store: the page computes what it can within its page budget, 0.4 s, and shows
  the rest as pending) and warm (after the background warmer's first round, timed too);
- how long the heatmap by week, month and quarter takes to fill from cold with the warmer off
  (its fragment asked until no period is pending, as the page does every 3 s): weeks are
  measured by the page within its budget; months and quarters hold more stored windows than a
  page merges, so they are left at once to the warmer (whose round is timed);
- in the browser: Debian's Chromium (Playwright), navigation until `load`, and until the network
  is idle (the model page's slower sections arrive after it is shown).

    .venv/bin/python benchmarks/bench_dashboard.py [--days 90] [--features 100]

No peer: no other tool serves a dashboard from Vigil's store; the requirement is absolute (every
page ready in under a second), so the table reports times, not ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import RESULTS_DIR, Machine, load_average  # noqa: E402

START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ROWS_PER_HOUR = 200
CATEGORIES = ["a", "b", "c", "d", "e", "f"]


def _hour_table(rng: np.random.Generator, features: int, drift: float) -> pa.Table:
    numeric = int(features * 0.8)
    columns: dict[str, Any] = {}
    for i in range(numeric):
        shift = drift if i < 8 else 0.0
        values = rng.normal(10 + i + shift * 3, 2 + (i % 5), ROWS_PER_HOUR)
        values[rng.random(ROWS_PER_HOUR) < 0.02] = np.nan
        columns[f"num_{i:03d}"] = values
    for i in range(features - numeric):
        p = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
        if i < 2 and drift:
            p = p[::-1]
        columns[f"cat_{i:03d}"] = rng.choice(CATEGORIES, ROWS_PER_HOUR, p=p / p.sum())
    return pa.table(columns)


def seed(store_url: str, artifacts_url: str, *, days: int, features: int) -> dict[str, float]:
    """Fill the store; returns how long each part took."""
    import vigil
    from vigil import models
    from vigil.client import Client
    from vigil.monitor.api import apply, save_baseline_profile
    from vigil.monitor.evaluate import backfill
    from vigil.store.core import Store
    from vigil.tracking.service import TrackingService

    times: dict[str, float] = {}
    rng = np.random.default_rng(0)
    began = time.perf_counter()
    training = vigil.profile(pa.concat_tables([_hour_table(rng, features, 0.0) for _ in range(25)]))
    names = list(training.columns)
    client = Client.local(store_url, artifacts_url)
    try:
        client.create_model("big", features=names, registry_model="big")
        batch = []
        for hour in range(days * 24):
            start = START + dt.timedelta(hours=hour)
            drift = 1.0 if hour >= 60 * 24 else 0.0
            batch.append(
                vigil.profile(
                    _hour_table(rng, features, drift), window=(start, start + dt.timedelta(hours=1))
                )
            )
            if len(batch) == 24:
                client.log_profiles("big", batch)
                batch = []
        if batch:
            client.log_profiles("big", batch)
        client.flush()
        times["windows"] = time.perf_counter() - began
        began = time.perf_counter()
        for hour in range(days * 24):  # a KPI per hour, v2 from half-way (the KPI section)
            at = START + dt.timedelta(hours=hour, minutes=30)
            version = "1" if hour < days * 12 else "2"
            value = float(rng.normal(10.0 if version == "1" else 10.5, 2.0))
            client.log_kpi("revenue", value, timestamp=at, model="big", version=version)
        client.flush()
        times["kpis"] = time.perf_counter() - began
    finally:
        client.close()

    began = time.perf_counter()
    store = Store.open(store_url, artifacts_url)
    try:
        from sklearn.linear_model import LogisticRegression

        x = rng.normal(size=(200, 3))
        fitted = LogisticRegression().fit(x, x[:, 0] > 0)
        version = models.register(
            "big", fitted, metrics={"roc_auc": 0.81}, profile=training, store=store
        )
        models.set_alias("big", "production", version.version, store=store)
        artifact = save_baseline_profile(store, "big-training", training)
        apply(
            store,
            "monitors:\n  - name: big-drift\n    kind: data_drift\n    target: {model: big}\n"
            f'    window: day\n    baseline: {{type: profile, artifact: "{artifact}"}}\n'
            "    threshold: {type: static, upper: 0.05}\n",
        )
        end = START + dt.timedelta(days=days)
        backfill(store, end - dt.timedelta(days=14), end, now=end)
        times["registry_monitors"] = time.perf_counter() - began

        began = time.perf_counter()
        service = TrackingService(store)
        experiment = service.ensure_experiment("sweep")
        for i in range(300):
            run = service.create_run(experiment.id, name=f"run-{i:03d}")
            metrics = [
                ("loss", float(np.exp(-step / (5 + i % 7))), step, 1_700_000_000_000 + step)
                for step in range(20)
            ]
            metrics += [(f"m{k}", float(rng.random()), 0, 1_700_000_000_000) for k in range(5)]
            params = {f"p{k}": str(int(rng.integers(0, 10))) for k in range(10)}
            service.log_batch(run.id, metrics=metrics, params=params)
        times["runs"] = time.perf_counter() - began
    finally:
        store.close()
    return times


def _sign_in(client: httpx.Client, url: str, token: str) -> None:
    form = client.get(f"{url}/ui/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        f"{url}/ui/login", data={"csrf": csrf.group(1), "token": token, "next": "/ui/"}
    )
    answer.raise_for_status()


def pages(client: httpx.Client, url: str) -> list[str]:
    runs = re.findall(r'name="runs" value="([0-9a-f]+)"', client.get(f"{url}/ui/experiments").text)
    alerts = re.findall(r'href="/ui/alerts/(\d+)"', client.get(f"{url}/ui/alerts?state=").text)
    found = [
        "/ui/",
        "/ui/models/big",
        "/ui/models/big?granularity=hour&days=7",
        "/ui/models/big?granularity=week",
        "/ui/models/big?granularity=month",
        "/ui/models/big?granularity=quarter",
        "/ui/models/big?granularity=day&at=2026-07-01T00:00:00Z&of=month",
        "/ui/models/big?granularity=hour&at=2026-08-10T00:00:00Z&of=day",
        "/ui/models/big/features/num_003",
        "/ui/models/big/features/cat_000",
        "/ui/experiments",
        f"/ui/experiments/compare?runs={runs[0]}&runs={runs[1]}",
        f"/ui/runs/{runs[0]}",
        "/ui/registry",
        "/ui/registry/big",
        "/ui/datasets",
        "/ui/alerts",
        "/ui/monitors",
        "/ui/settings",
    ]
    if alerts:
        found.append(f"/ui/alerts/{alerts[0]}")
    found += [
        f"/ui/models/big/section/{key}?days=90"
        for key in ("performance", "estimated", "kpi_compare", "retraining")
    ]
    found += [
        f"/ui/models/big/section/{key}?days=90&period=month"
        for key in ("performance", "kpi_compare")
    ]
    return found


def time_pages(client: httpx.Client, url: str, urls: list[str], repeats: int) -> dict[str, float]:
    out = {}
    for path in urls:
        samples = []
        for _ in range(repeats):
            began = time.perf_counter()
            answer = client.get(url + path)
            samples.append(time.perf_counter() - began)
            answer.raise_for_status()
        out[path] = statistics.median(samples)
    return out


def fill_heatmap(client: httpx.Client, url: str, unit: str) -> tuple[float, int]:
    """(seconds, requests) until the heatmap of `unit` has no pending period: its fragment asked
    again and again, as the page does, each request measuring within the page budget."""
    began, requests = time.perf_counter(), 0
    while True:
        answer = client.get(f"{url}/ui/models/big/heatmap", params={"granularity": unit})
        answer.raise_for_status()
        requests += 1
        if 'data-refresh="on"' not in answer.text or requests >= 200:
            return time.perf_counter() - began, requests


def time_browser(url: str, token: str, urls: list[str]) -> dict[str, tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium"), headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/ui/login")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/ui/$"))
        for path in urls:
            if "/section/" in path:
                continue
            # A first visit caches the static files; its sections must finish first, or the
            # timed visit would queue behind them on the server.
            page.goto(url + path, wait_until="load")
            page.wait_for_load_state("networkidle")
            began = time.perf_counter()
            page.goto(url + path, wait_until="load")
            loaded = time.perf_counter() - began
            page.wait_for_load_state("networkidle")
            idle = time.perf_counter() - began - 0.5  # networkidle waits 500 ms of quiet
            out[path] = (loaded, max(idle, loaded))
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reuse",
        type=Path,
        help="a folder holding a store this script seeded before (v.db, artifacts/): copied, "
        "not seeded again",
    )
    args = parser.parse_args()

    from tests.e2e.live import LiveServer

    from vigil.api.specs import Scope
    from vigil.store.core import Store

    machine = Machine.here()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-dash-") as tmp:
        folder = Path(tmp)
        store_url, artifacts_url = f"sqlite:///{folder / 'v.db'}", str(folder / "artifacts")
        if args.reuse:
            import shutil

            for part in args.reuse.glob("v.db*"):
                shutil.copy(part, folder / part.name)
            shutil.copytree(args.reuse / "artifacts", folder / "artifacts")
            seeding: dict[str, float] = {}
        else:
            seeding = seed(store_url, artifacts_url, days=args.days, features=args.features)
        print(f"seeded: {json.dumps({k: round(v, 1) for k, v in seeding.items()})}", flush=True)
        store = Store.open(store_url, artifacts_url)
        token = store.create_token(Scope.ADMIN, owner="bench")
        store.close()
        server = LiveServer(
            store_url,
            artifacts_url,
            folder / "server.log",
            env={"VIGIL_MONITOR_SCHEDULER": "false", "VIGIL_DASHBOARD_WARM_SECONDS": "0"},
        ).start()
        try:
            with httpx.Client(timeout=600, follow_redirects=True) as client:
                _sign_in(client, server.url, token)
                urls = pages(client, server.url)
                cold = time_pages(client, server.url, urls, 1)
                fill = {
                    u: fill_heatmap(client, server.url, u) for u in ("week", "month", "quarter")
                }
                warm_began = time.perf_counter()
                _warm(store_url, artifacts_url)
                warm_up = time.perf_counter() - warm_began
                warm = time_pages(client, server.url, urls, args.repeats)
            browser = time_browser(server.url, token, urls)
        finally:
            server.stop()
    report = {
        "machine": machine.markdown(),
        "load_average": load_average(),
        "days": args.days,
        "features": args.features,
        "seeding_seconds": seeding,
        "cache_warm_up_seconds": warm_up,
        "server_cold_seconds": cold,
        "server_warm_seconds": warm,
        "browser_seconds": browser,
        "heatmap_fill_seconds": fill,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "dashboard.json").write_text(json.dumps(report, indent=2))
    print(f"\n{machine.markdown()}; load average {report['load_average']:.1f}")
    print(f"drift cache warm-up (the background warmer's first round): {warm_up:.1f} s")
    for unit, (seconds, requests) in fill.items():
        print(
            f"heatmap by {unit}, filled by the page from cold: {seconds:.1f} s, {requests} requests"
        )
    print()
    print("| page | server, cold cache | server, warm | browser: load | browser: all sections |")
    print("|---|---:|---:|---:|---:|")
    for path in urls:
        # A model section is fetched by its page, not opened in the browser on its own.
        shown = [f"{t:.3f} s" for t in browser[path]] if path in browser else ["-", "-"]
        print(f"| `{path}` | {cold[path]:.3f} s | {warm[path]:.3f} s | {shown[0]} | {shown[1]} |")


def _warm(store_url: str, artifacts_url: str) -> None:
    """What the server's background warmer does on its first round (run here, timed)."""
    from vigil.server.dashboard.drift_cache import DriftCache, Warmer
    from vigil.store.core import Store

    store = Store.open(store_url, artifacts_url)
    try:
        Warmer(DriftCache(store), interval=0).warm_once()
    finally:
        store.close()


if __name__ == "__main__":
    main()
