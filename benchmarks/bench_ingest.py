"""Issue 4: ingestion through a real Vigil server on loopback (uvicorn in a subprocess).

    .venv/bin/python benchmarks/bench_ingest.py                       # SQLite store, defaults
    .venv/bin/python benchmarks/bench_ingest.py --store postgresql://postgres@127.0.0.1/bench

Three measurements, each on a fresh model:

- prediction rows/s: log bodies of `--batch-rows` prediction rows (ids, timestamps, a prediction
  and a score) with their window profile, built beforehand, posted back to back by `--senders`
  threads; rows stored (Parquet + metadata commit) per second of wall time;
- profile uploads/s: bodies holding one window profile (8 columns) and no rows, all for the same
  window, so each is merged into the stored profile (the several-replicas case);
- small log call latency: `client.log(model, 10-row frame)` end to end (profiling in the client,
  HTTP, validation, merge, commit), p50 and p95 over `--calls` calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

import vigil
from common import Machine, git_revision, markdown_table, write_results
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LogBatch, table_to_ipc
from vigil.client import Client
from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN
from vigil.store.db import create_store_engine, session_factory, upgrade
from vigil.store.repositories import TokenRepository

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
FEATURES = [f"f{i}" for i in range(6)]


def _token(store_url: str) -> str:
    engine = create_store_engine(store_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        _, secret = TokenRepository(session).create(Scope.ADMIN, name="bench")
        session.commit()
    engine.dispose()
    return secret


def _serve(store_url: str, artifacts: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VIGIL_STORE_URL": store_url, "VIGIL_ARTIFACTS_URL": artifacts}
    command = [sys.executable, "-m", "vigil.server", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


def _frame(n: int, seed: int, start: dt.datetime = T0) -> pa.Table:
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 3600 * 10**6, n).astype("timedelta64[us]")
    columns: dict[str, Any] = {
        "id": [f"{seed}-{i}" for i in range(n)],
        "ts": pa.array(
            np.datetime64(start.replace(tzinfo=None), "us") + offsets, pa.timestamp("us", tz="UTC")
        ),
    }
    for name in FEATURES:
        columns[name] = rng.normal(size=n)
    proba = rng.random(n)
    columns["proba"] = proba
    columns["label"] = (proba > 0.5).astype(np.int64)
    return pa.table(columns)


def _body(table: pa.Table, *, rows: bool) -> bytes:
    profiled = table.select([*FEATURES, "proba", "label"])
    profile = vigil.profile(profiled, window=(T0, T0 + dt.timedelta(hours=1)))
    payload = None
    if rows:
        payload = table_to_ipc(
            pa.table(
                {
                    ID_COLUMN: table["id"],
                    TIMESTAMP_COLUMN: table["ts"],
                    "label": table["label"],
                    "proba": table["proba"],
                }
            )
        )
    return LogBatch(version="v1", profiles=[profile.to_bytes()], rows=payload).encode()


def _post_all(url: str, token: str, model: str, bodies: list[bytes], senders: int) -> float:
    chunks = [bodies[i::senders] for i in range(senders)]
    errors: list[str] = []

    def send(chunk: list[bytes]) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            for body in chunk:
                response = http.post(f"/api/v1/models/{model}/log", content=body)
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} upload(s) failed, first: {errors[0]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store URL (default: a new SQLite file)")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--profiles", type=int, default=300)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    store_url = args.store or f"sqlite:///{work / 'vigil.db'}"
    token = _token(store_url)
    server = _serve(store_url, str(work / "artifacts"), args.port, work / "server.log")
    url = f"http://127.0.0.1:{args.port}"
    try:
        client = Client(url, token=token, spool_dir=None)
        for model in ("rows", "profiles", "small"):
            client.create_model(
                f"bench-{model}",
                features=FEATURES,
                predictions=["label"],
                scores=["proba"],
                id_column="id",
                timestamp_column="ts",
            )

        bodies = [_body(_frame(args.batch_rows, s), rows=True) for s in range(args.batches)]
        _post_all(url, token, "bench-rows", bodies[:2], 1)  # warm up
        elapsed = _post_all(url, token, "bench-rows", bodies[2:], args.senders)
        rows_per_s = (args.batches - 2) * args.batch_rows / elapsed
        stored = sum(w.n_rows for w in client.windows("bench-rows"))
        assert stored == args.batches * args.batch_rows, stored

        profile_bodies = [_body(_frame(200, 10_000 + s), rows=False) for s in range(args.profiles)]
        elapsed = _post_all(url, token, "bench-profiles", profile_bodies, args.senders)
        profiles_per_s = args.profiles / elapsed

        small = [_frame(10, 20_000 + s).to_pandas() for s in range(args.calls + 20)]
        latencies = []
        for i, frame in enumerate(small):
            started = time.perf_counter()
            client.log("bench-small", frame, version="v1")
            if i >= 20:
                latencies.append(time.perf_counter() - started)
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    p50 = statistics.median(latencies) * 1000
    p95 = float(np.percentile(latencies, 95)) * 1000
    backend = store_url.split(":", 1)[0]
    rows = [
        [
            "prediction rows / s",
            rows_per_s,
            f"{args.batch_rows:,}-row bodies, {args.senders} senders",
        ],
        ["profile uploads / s", profiles_per_s, f"same window, merged; {args.senders} senders"],
        ["small log call p50 (ms)", p50, "10 rows, client.log end to end"],
        ["small log call p95 (ms)", p95, ""],
    ]
    machine = Machine.here()
    print(f"Ingestion through the API on loopback, {backend} store, commit {git_revision()}")
    print(machine.markdown())
    print(markdown_table(["measure", "value", "how"], rows))
    path = write_results(
        "ingest",
        {
            "machine": machine.__dict__,
            "revision": git_revision(),
            "store": backend,
            "args": vars(args),
            "rows_per_s": rows_per_s,
            "profiles_per_s": profiles_per_s,
            "small_log_p50_ms": p50,
            "small_log_p95_ms": p95,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
