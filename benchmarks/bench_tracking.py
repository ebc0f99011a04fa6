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
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

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
    write_results,
)

SCRIPT = Path(__file__).resolve()
EMBEDDED_POINTS = 100_000
SERVER_POINTS = 1_000_000
SEARCH_RUNS = 100_000
QUERIES = 30
FILTER = "metrics.auc > 0.8 and params.model = 'xgb' and tags.team != 'ops'"
ORDER = ["metrics.auc DESC"]
PG_ADMIN = os.environ.get("VIGIL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _values(n: int) -> list[float]:
    return [1.0 / (1 + i % 1000) + (i % 7) * 1e-3 for i in range(n)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    for _ in range(1200):
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")


def _percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}


def _search_rows(n: int) -> list[tuple[str, str, str, float, float, str, int]]:
    """(run id, model, depth, auc, loss, team, start ms) of run i, the same for both systems."""
    import random

    rng = random.Random(5)
    models = ["xgb", "lgbm", "rf", "lr"]
    teams = ["risk", "growth", "ops"]
    start = 1_790_000_000_000
    return [
        (
            f"{i:032x}",
            models[rng.randrange(4)],
            str(rng.randrange(2, 12)),
            rng.random(),
            rng.random() * 3,
            teams[rng.randrange(3)],
            start + i * 1000,
        )
        for i in range(n)
    ]


def _admin_url(driver: str) -> str:
    return PG_ADMIN.replace("postgresql://", f"postgresql+{driver}://", 1)


def _recreate_database(driver: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(_admin_url(driver), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return _admin_url(driver).rsplit("/", 1)[0] + "/" + name


def _drop_database(driver: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(_admin_url(driver), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


# ------------------------------------------------------------------------------ Vigil children


def vigil_embedded(_: Sequence[str]) -> Mapping[str, Any]:
    import vigil

    values = _values(EMBEDDED_POINTS)
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

    values = _values(SERVER_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        store_url = f"sqlite:///{tmp}/vigil.db"
        engine = create_store_engine(store_url)
        upgrade(engine)
        with session_factory(engine)() as session:
            _, token = TokenRepository(session).create(Scope.ADMIN, name="bench")
            session.commit()
        engine.dispose()
        port = _free_port()
        log = Path(tmp) / "server.log"
        env = {**os.environ, "VIGIL_STORE_URL": store_url, "VIGIL_ARTIFACTS_URL": f"{tmp}/a"}
        command = [sys.executable, "-m", "vigil.server", "--port", str(port)]
        command += ["--log-level", "warning"]
        server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(f"{url}/health", server, log)
            run = vigil.start_run("bench", url=url, token=token, capture=False)
            with Timer() as work:
                for step, value in enumerate(values):
                    run.log_metric("loss", value, step=step)
                run.end()
            headers = {"Authorization": f"Bearer {token}"}
            history = f"{url}/api/v1/runs/{run.id}/metrics/loss/history"
            with httpx.Client(headers=headers, timeout=600) as client:
                times = []
                for _ in range(20):
                    started = time.perf_counter()
                    points = client.get(history, params={"max_points": 1000}).json()
                    times.append(time.perf_counter() - started)
                started = time.perf_counter()
                everything = client.get(history).json()
                full_s = time.perf_counter() - started
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
        **{f"chart_{k}": v for k, v in _percentiles(times).items()},
    }


def vigil_search(_: Sequence[str]) -> Mapping[str, Any]:
    from vigil.store.core import Store
    from vigil.tracking.service import TrackingService

    url = _recreate_database("psycopg", "vigil_bench_runs")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(url, f"{tmp}/a")
            service = TrackingService(store)
            experiment = service.create_experiment("bench")
            rows = _search_rows(SEARCH_RUNS)
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
            times, found = [], 0
            for _ in range(QUERIES):
                started = time.perf_counter()
                page = service.search_runs(["bench"], FILTER, order_by=ORDER, max_results=100)
                times.append(time.perf_counter() - started)
                found = len(page.runs)
            expected = sorted(
                (r for r in rows if r[3] > 0.8 and r[1] == "xgb" and r[5] != "ops"),
                key=lambda r: -r[3],
            )[:100]
            assert [r.id for r in page.runs] == [r[0] for r in expected]
            store.close()
    finally:
        if not os.environ.get("VIGIL_BENCH_KEEP_DB"):  # kept to EXPLAIN the query by hand
            _drop_database("psycopg", "vigil_bench_runs")
    return {"load_s": load.seconds, "found": found, **_percentiles(times)}


# ----------------------------------------------------------------------------- MLflow children


def mlflow_embedded(_: Sequence[str]) -> Mapping[str, Any]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    values = _values(EMBEDDED_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        client = MlflowClient(f"sqlite:///{tmp}/mlflow.db")
        experiment = client.create_experiment("bench", artifact_location=f"{tmp}/a")
        run = client.create_run(experiment)
        run_id = run.info.run_id
        stamp = int(time.time() * 1000)
        with Timer() as work:
            for start in range(0, EMBEDDED_POINTS, 1000):
                batch = [
                    Metric("loss", values[i], stamp + i, i)
                    for i in range(start, min(start + 1000, EMBEDDED_POINTS))
                ]
                client.log_batch(run_id, metrics=batch)
            client.set_terminated(run_id)
        stored = len(client.get_metric_history(run_id, "loss"))
    assert stored == EMBEDDED_POINTS, stored
    return {"work_s": work.seconds, "work_cpu_s": work.cpu_seconds, "points": stored}


def mlflow_server(_: Sequence[str]) -> Mapping[str, Any]:
    import requests
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    values = _values(SERVER_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        log = Path(tmp) / "server.log"
        command = [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
            "--default-artifact-root", f"{tmp}/a", "--workers", "1",
        ]  # fmt: skip
        server = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(f"{url}/health", server, log)
            client = MlflowClient(url)
            experiment = client.create_experiment("bench")
            run_id = client.create_run(experiment).info.run_id
            stamp = int(time.time() * 1000)
            with Timer() as work:
                for start in range(0, SERVER_POINTS, 1000):
                    batch = [
                        Metric("loss", values[i], stamp + i, i)
                        for i in range(start, min(start + 1000, SERVER_POINTS))
                    ]
                    client.log_batch(run_id, metrics=batch)
                client.set_terminated(run_id)
            chart = f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
            params = {"run_ids": run_id, "metric_key": "loss", "max_results": 1000}
            times = []
            for _ in range(5):
                started = time.perf_counter()
                points = requests.get(chart, params=params, timeout=600).json()["metrics"]
                times.append(time.perf_counter() - started)
            started = time.perf_counter()
            everything = client.get_metric_history(run_id, "loss")
            full_s = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(30)
    assert len(everything) == SERVER_POINTS, len(everything)
    return {
        "work_s": work.seconds,
        "work_cpu_s": work.cpu_seconds,
        "chart_points": len(points),
        "full_history_s": full_s,
        **{f"chart_{k}": v for k, v in _percentiles(times).items()},
    }


def mlflow_search(_: Sequence[str]) -> Mapping[str, Any]:
    from mlflow import MlflowClient
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    url = _recreate_database("psycopg2", "mlflow_bench_runs")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = SqlAlchemyStore(url, f"{tmp}/a")  # creates MLflow's schema
            experiment = store.create_experiment("bench")
            rows = _search_rows(SEARCH_RUNS)

            def copy(cursor: Any, table: str, columns: str, data: list[tuple[Any, ...]]) -> None:
                buffer = io.StringIO()
                for row in data:
                    buffer.write("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")
                buffer.seek(0)
                cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)

            with Timer() as load:
                raw: Any = store.engine.raw_connection()
                with raw.cursor() as cursor:
                    copy(
                        cursor,
                        "runs",
                        "run_uuid, name, source_type, source_name, entry_point_name, user_id, "
                        "status, start_time, end_time, source_version, lifecycle_stage, "
                        "artifact_uri, experiment_id",
                        [
                            (r[0], f"run-{r[0][-6:]}", "LOCAL", "", "", "bench", "FINISHED",
                             r[6], r[6] + 500, "", "active", f"{tmp}/a/{r[0]}", experiment)
                            for r in rows
                        ],
                    )  # fmt: skip
                    copy(
                        cursor,
                        "params",
                        "key, value, run_uuid",
                        [(k, v, r[0]) for r in rows for k, v in (("model", r[1]), ("depth", r[2]))],
                    )
                    metric_rows = [
                        (k, v, r[6], 0, "false", r[0])
                        for r in rows
                        for k, v in (("auc", r[3]), ("loss", r[4]))
                    ]
                    columns = "key, value, timestamp, step, is_nan, run_uuid"
                    copy(cursor, "latest_metrics", columns, metric_rows)
                    copy(cursor, "metrics", columns, metric_rows)
                    copy(
                        cursor, "tags", "key, value, run_uuid", [("team", r[5], r[0]) for r in rows]
                    )
                    cursor.execute("ANALYZE")
                raw.commit()
                raw.close()
            client = MlflowClient(url)
            times, found = [], []
            for _ in range(QUERIES):
                started = time.perf_counter()
                found = client.search_runs([experiment], FILTER, order_by=ORDER, max_results=100)
                times.append(time.perf_counter() - started)
            expected = sorted(
                (r for r in rows if r[3] > 0.8 and r[1] == "xgb" and r[5] != "ops"),
                key=lambda r: -r[3],
            )[:100]
            assert [r.info.run_id for r in found] == [r[0] for r in expected]
            store.engine.dispose()
    finally:
        _drop_database("psycopg2", "mlflow_bench_runs")
    return {"load_s": load.seconds, "found": len(found), **_percentiles(times)}


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
