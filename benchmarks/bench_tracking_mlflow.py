"""The MLflow 3 children of bench_tracking.py (run by benchmarks/.venv-peers): the same work as
Vigil's children, through MLflow's client, `mlflow server` and its PostgreSQL schema."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
from common import Timer, timed_calls

BATCH = 1000
"""Points per `log_batch` call: MLflow's limit."""


def _log_in_batches(client: Any, run_id: str, values: Sequence[float], stamp: int) -> None:
    """Log `values` as metric "loss" (step i at `stamp + i` ms), BATCH points a call."""
    from mlflow.entities import Metric

    for start in range(0, len(values), BATCH):
        steps = range(start, min(start + BATCH, len(values)))
        client.log_batch(run_id, metrics=[Metric("loss", values[i], stamp + i, i) for i in steps])


def mlflow_embedded(_: Sequence[str]) -> Mapping[str, Any]:
    from mlflow import MlflowClient

    values = metric_values(EMBEDDED_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        client = MlflowClient(f"sqlite:///{tmp}/mlflow.db")
        experiment = client.create_experiment("bench", artifact_location=f"{tmp}/a")
        run = client.create_run(experiment)
        run_id = run.info.run_id
        stamp = int(time.time() * 1000)
        with Timer() as work:
            _log_in_batches(client, run_id, values, stamp)
            client.set_terminated(run_id)
        stored = len(client.get_metric_history(run_id, "loss"))
    assert stored == EMBEDDED_POINTS, stored
    return {"work_s": work.seconds, "work_cpu_s": work.cpu_seconds, "points": stored}


def mlflow_server(_: Sequence[str]) -> Mapping[str, Any]:
    import requests
    from mlflow import MlflowClient

    values = metric_values(SERVER_POINTS)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        log = Path(tmp) / "server.log"
        command = [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
            "--default-artifact-root", f"{tmp}/a", "--workers", "1",
        ]  # fmt: skip
        server = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait(f"{url}/health", server, log)
            client = MlflowClient(url)
            experiment = client.create_experiment("bench")
            run_id = client.create_run(experiment).info.run_id
            stamp = int(time.time() * 1000)
            with Timer() as work:
                _log_in_batches(client, run_id, values, stamp)
                client.set_terminated(run_id)
            chart = f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
            params = {"run_ids": run_id, "metric_key": "loss", "max_results": 1000}
            points, times = timed_calls(
                lambda: requests.get(chart, params=params, timeout=600).json()["metrics"], 5
            )
            everything, (full_s,) = timed_calls(
                lambda: client.get_metric_history(run_id, "loss"), 1
            )
        finally:
            server.terminate()
            server.wait(30)
    assert len(everything) == SERVER_POINTS, len(everything)
    return {
        "work_s": work.seconds,
        "work_cpu_s": work.cpu_seconds,
        "chart_points": len(points),
        "full_history_s": full_s,
        **{f"chart_{k}": v for k, v in percentiles(times).items()},
    }


def mlflow_search(_: Sequence[str]) -> Mapping[str, Any]:
    from mlflow import MlflowClient
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    url = recreate_database("psycopg2", "mlflow_bench_runs")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = SqlAlchemyStore(url, f"{tmp}/a")  # creates MLflow's schema
            experiment = store.create_experiment("bench")
            rows = search_rows(SEARCH_RUNS)

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
            found, times = timed_calls(
                lambda: client.search_runs([experiment], FILTER, order_by=ORDER, max_results=100),
                QUERIES,
            )
            expected = sorted(
                (r for r in rows if r[3] > 0.8 and r[1] == "xgb" and r[5] != "ops"),
                key=lambda r: -r[3],
            )[:100]
            assert [r.info.run_id for r in found] == [r[0] for r in expected]
            store.engine.dispose()
    finally:
        drop_database("psycopg2", "mlflow_bench_runs")
    return {"load_s": load.seconds, "found": len(found), **percentiles(times)}
