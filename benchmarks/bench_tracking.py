"""Issue 5: experiment tracking against MLflow 3, same machine, same store kinds.

    .venv/bin/python benchmarks/bench_tracking.py [--repeats 3] [--only embedded,server,search]

- embedded: 100,000 points of one metric from one process into embedded SQLite (a file);
  Vigil `run.log_metric` (buffered) vs MLflow `MlflowClient.log_batch` (1,000 points a call,
  MLflow's limit), written and committed;
- server: 1,000,000 points through a local server on SQLite (Vigil's server and `mlflow
  server`), then that history downsampled for a chart: Vigil `GET .../history?max_points=1000`
  vs MLflow's `get-history-bulk-interval` (`max_results=1000`, what MLflow's UI calls);
- search: 100,000 runs in PostgreSQL (each system's own schema, the same generated values:
  params model/depth, metrics auc/loss, tag team), one filtered and ordered search repeated
  (p50, p95): `metrics.auc > 0.8 and params.model = 'xgb' and tags.team != 'ops'` by
  `metrics.auc DESC`, 100 results (MLflow has no IN on params). The runs are written straight into the tables (COPY), not timed; each database
  (`vigil_bench_runs`, `mlflow_bench_runs` on 127.0.0.1:5432) is dropped afterwards.

Each contender runs in its own process (Vigil's .venv, MLflow in benchmarks/.venv-peers).
MLflow's children are bench_tracking_mlflow.py; what both sides share, bench_tracking_setup.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_tracking_mlflow import mlflow_embedded, mlflow_search, mlflow_server
from bench_tracking_setup import (
    EMBEDDED_POINTS,
    FILTER,
    ORDER,
    QUERIES,
    SEARCH_RUNS,
    SERVER_POINTS,
    drop_database,
    free_port,
    metric_values,
    percentiles,
    recreate_database,
    search_rows,
    wait,
)
from common import (
    PEERS_PYTHON,
    VIGIL_PYTHON,
    Contender,
    Machine,
    Timer,
    child_main,
    git_revision,
    markdown_table,
    measure_all,
    ratio,
    timed_calls,
    write_results,
)

SCRIPT = Path(__file__).resolve()

# ------------------------------------------------------------------------------ Vigil children


def vigil_embedded(_: Sequence[str]) -> Mapping[str, Any]:
    import vigil

    values = metric_values(EMBEDDED_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        store_url = f"sqlite:///{tmp}/vigil.db"
        run = vigil.start_run("bench", store_url=store_url, artifacts_url=f"{tmp}/a", capture=False)
        with Timer() as work:
            for step, value in enumerate(values):
                run.log_metric("loss", value, step=step)
            run.end()
        from vigil.store.core import Store
        from vigil.tracking.service import TrackingService

        store = Store.open(store_url, f"{tmp}/a")
        stored = len(TrackingService(store).metric_history(run.id, "loss"))
        store.close()
    assert stored == EMBEDDED_POINTS, stored
    return {"work_s": work.seconds, "work_cpu_s": work.cpu_seconds, "points": stored}


def vigil_server(_: Sequence[str]) -> Mapping[str, Any]:
    import httpx

    import vigil
    from vigil.api.specs import Scope
    from vigil.store.db import create_store_engine, session_factory, upgrade
    from vigil.store.repositories import TokenRepository

    values = metric_values(SERVER_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        store_url = f"sqlite:///{tmp}/vigil.db"
        engine = create_store_engine(store_url)
        upgrade(engine)
        with session_factory(engine)() as session:
            _, token = TokenRepository(session).create(Scope.ADMIN, name="bench")
            session.commit()
        engine.dispose()
        port = free_port()
        log = Path(tmp) / "server.log"
        env = {**os.environ, "VIGIL_STORE_URL": store_url, "VIGIL_ARTIFACTS_URL": f"{tmp}/a"}
        command = [sys.executable, "-m", "vigil.server", "--port", str(port)]
        command += ["--log-level", "warning"]
        server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait(f"{url}/health", server, log)
            run = vigil.start_run("bench", url=url, token=token, capture=False)
            with Timer() as work:
                for step, value in enumerate(values):
                    run.log_metric("loss", value, step=step)
                run.end()
            headers = {"Authorization": f"Bearer {token}"}
            history = f"{url}/api/v1/runs/{run.id}/metrics/loss/history"
            with httpx.Client(headers=headers, timeout=600) as client:
                points, times = timed_calls(
                    lambda: client.get(history, params={"max_points": 1000}).json(), 20
                )
                everything, (full_s,) = timed_calls(lambda: client.get(history).json(), 1)
        finally:
            server.terminate()
            server.wait(30)
    assert len(everything) == SERVER_POINTS, len(everything)
    assert max(p["value"] for p in points) == max(values)
    return {
        "work_s": work.seconds,
        "work_cpu_s": work.cpu_seconds,
        "chart_points": len(points),
        "full_history_s": full_s,
        **{f"chart_{k}": v for k, v in percentiles(times).items()},
    }


def vigil_search(_: Sequence[str]) -> Mapping[str, Any]:
    from vigil.store.core import Store
    from vigil.tracking.service import TrackingService

    url = recreate_database("psycopg", "vigil_bench_runs")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(url, f"{tmp}/a")
            service = TrackingService(store)
            experiment = service.create_experiment("bench")
            rows = search_rows(SEARCH_RUNS)
            with Timer() as load:
                raw: Any = store.engine.raw_connection()
                driver = raw.driver_connection
                with driver.cursor() as cursor:
                    with cursor.copy(
                        "COPY runs (id, experiment_id, name, status, start_ms, end_ms, owner, "
                        "artifact_location, lifecycle_stage) FROM STDIN"
                    ) as copy:
                        for r in rows:
                            copy.write_row(
                                (
                                    r[0],
                                    experiment.id,
                                    f"run-{r[0][-6:]}",
                                    "finished",
                                    r[6],
                                    r[6] + 500,
                                    "bench",
                                    f"runs/{r[0]}",
                                    "active",
                                )
                            )
                    with cursor.copy("COPY run_params (run_id, key, value) FROM STDIN") as copy:
                        for r in rows:
                            copy.write_row((r[0], "model", r[1]))
                            copy.write_row((r[0], "depth", r[2]))
                    with cursor.copy(
                        "COPY latest_metrics (run_id, key, value, step, timestamp_ms) FROM STDIN"
                    ) as copy:
                        for r in rows:
                            copy.write_row((r[0], "auc", r[3], 0, r[6]))
                            copy.write_row((r[0], "loss", r[4], 0, r[6]))
                    with cursor.copy("COPY run_tags (run_id, key, value) FROM STDIN") as copy:
                        for r in rows:
                            copy.write_row((r[0], "team", r[5]))
                    cursor.execute("ANALYZE")
                driver.commit()
                raw.close()
            page, times = timed_calls(
                lambda: service.search_runs(["bench"], FILTER, order_by=ORDER, max_results=100),
                QUERIES,
            )
            found = len(page.runs)
            expected = sorted(
                (r for r in rows if r[3] > 0.8 and r[1] == "xgb" and r[5] != "ops"),
                key=lambda r: -r[3],
            )[:100]
            assert [r.id for r in page.runs] == [r[0] for r in expected]
            store.close()
    finally:
        if not os.environ.get("VIGIL_BENCH_KEEP_DB"):  # kept to EXPLAIN the query by hand
            drop_database("psycopg", "vigil_bench_runs")
    return {"load_s": load.seconds, "found": found, **percentiles(times)}


HANDLERS: dict[str, Callable[[Sequence[str]], Mapping[str, Any]]] = {
    "vigil_embedded": vigil_embedded,
    "mlflow_embedded": mlflow_embedded,
    "vigil_server": vigil_server,
    "mlflow_server": mlflow_server,
    "vigil_search": vigil_search,
    "mlflow_search": mlflow_search,
}


# ------------------------------------------------------------------------------------ parent


def _pair(kind: str) -> list[Contender]:
    return [
        Contender(f"vigil_{kind}", f"Vigil {kind}", VIGIL_PYTHON, SCRIPT),
        Contender(f"mlflow_{kind}", f"MLflow 3 {kind}", PEERS_PYTHON, SCRIPT),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="embedded,server,search")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.only.split(",") if k.strip()]
    results: dict[str, Any] = {
        "machine": Machine.here().__dict__,
        "revision": git_revision(),
        "versions": {
            "vigil": subprocess.run(
                [str(VIGIL_PYTHON), "-c", "import vigil; print(vigil.__version__)"],
                capture_output=True,
                text=True,
            ).stdout.strip(),
            "mlflow": subprocess.run(
                [str(PEERS_PYTHON), "-c", "import mlflow; print(mlflow.__version__)"],
                capture_output=True,
                text=True,
            ).stdout.strip(),
        },
    }
    rows = []
    for kind in kinds:
        repeats = args.repeats if kind == "embedded" else 1
        measured = measure_all(_pair(kind), repeats)
        vigil_m, mlflow_m = measured[f"vigil_{kind}"], measured[f"mlflow_{kind}"]
        results[kind] = {name: m.to_dict() for name, m in measured.items()}
        if kind in ("embedded", "server"):
            points = EMBEDDED_POINTS if kind == "embedded" else SERVER_POINTS
            v, m = vigil_m.metric("work_s"), mlflow_m.metric("work_s")
            rows.append((f"{points:,} points, {kind} (s)", v, m, ratio(m, v)))
        if kind == "server":
            v, m = vigil_m.metric("chart_p50_ms"), mlflow_m.metric("chart_p50_ms")
            rows.append(("1M-point history for a chart, p50 (ms)", v, m, ratio(m, v)))
            v, m = vigil_m.metric("chart_p95_ms"), mlflow_m.metric("chart_p95_ms")
            rows.append(("1M-point history for a chart, p95 (ms)", v, m, ratio(m, v)))
            v, m = vigil_m.metric("full_history_s"), mlflow_m.metric("full_history_s")
            rows.append(("1M-point history, every point (s)", v, m, ratio(m, v)))
        if kind == "search":
            v, m = vigil_m.metric("p50_ms"), mlflow_m.metric("p50_ms")
            rows.append(("search 100k runs on PostgreSQL, p50 (ms)", v, m, ratio(m, v)))
            v, m = vigil_m.metric("p95_ms"), mlflow_m.metric("p95_ms")
            rows.append(("search 100k runs on PostgreSQL, p95 (ms)", v, m, ratio(m, v)))
    results["table"] = rows
    path = write_results("tracking", results)
    print(Machine.here().markdown())
    print(f"revision {results['revision']}; {json.dumps(results['versions'])}\n")
    print(markdown_table(["measure", "Vigil", "MLflow 3", "MLflow / Vigil"], rows))
    print(f"\nresults: {path}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main(HANDLERS)
    else:
        main()
