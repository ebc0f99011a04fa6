"""Issues 4 and 19: ingestion through a real Vigil server on loopback (uvicorn in a subprocess),
today's code side by side with the code before issue 19's append-only windows.

    .venv/bin/python benchmarks/bench_ingest.py                       # SQLite store, defaults
    .venv/bin/python benchmarks/bench_ingest.py --store postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python benchmarks/bench_ingest.py --before none         # today's code only
    .venv/bin/python benchmarks/bench_ingest.py --before auto --before HEAD~3 --workers 2

`--before REV` (by default the commit before "a log call appends its profile as a part"; given
again, one more contender each) is checked out with `git worktree add` into a temporary folder;
each contender runs in a child process whose `vigil` (and whose server's) comes from its own tree
(PYTHONPATH), round-robin `--repeats` times, on a fresh store each time. Ratios are after / each
before.

`--workers N` starts N server processes on the one store (SQLite in WAL mode, or `--store`); the
uploads' senders take turns over their ports (sender i starts at port i, then goes round), so N
processes share one window as a fleet behind a load balancer would. Server CPU is the sum over
the N processes; the small calls go to the first. The floor runs N bare processes the same way.

Measurements, each on a fresh model:

- prediction rows/s: log bodies of `--batch-rows` prediction rows (ids, timestamps, a prediction
  and a score) with their window profile, built beforehand, posted back to back by `--senders`
  threads; rows stored (Parquet + metadata commit) per second of wall time;
  (only with `--batches N`);
- profile uploads/s: bodies holding one window profile (8 columns) and no rows, all for the same
  window (the several-replicas case): before, each was merged into the stored profile; now each
  is appended as a part;
- the same, from light senders (with one reader beside them: `GET /api/v1/models` every 20 ms,
  its p50 and p95, `_Reads`): as many bodies for the next hour's window, posted by
  `--senders` threads with the standard library's `http.client` (`_post_light`). httpx costs the
  senders about four times the CPU per request, and the senders are threads of this one process:
  with httpx the rate is partly theirs; with light senders it is the server's (the floor below,
  measured both ways, shows how much);
- small log call latency: `client.log(model, 10-row frame)` end to end (profiling in the client,
  HTTP, validation, store, commit), p50 and p95 over `--calls` calls;
- the server process's CPU time per small log call and per profile upload (/proc), and the stored
  bytes of a window per feature once its parts are folded;
- the floor: the same upload bodies posted to a bare FastAPI route under uvicorn
  (`bench_ingest_floor.py`: reads the body, answers a small JSON object; no authentication,
  validation or store), its requests per second and CPU per request. One server process cannot
  take uploads faster than this, whatever Vigil does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
from sqlalchemy import text

import vigil
from common import (
    REPO,
    VIGIL_PYTHON,
    Contender,
    Machine,
    child_main,
    git_revision,
    markdown_table,
    measure_all,
    ratio,
    write_results,
)
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LogBatch, table_to_ipc
from vigil.client import Client
from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN
from vigil.store.db import create_store_engine, session_factory, upgrade
from vigil.store.repositories import TokenRepository

sys.path.insert(0, str(REPO))  # this checkout's tests package: its waits and PostgreSQL helpers
from tests.store.pg import new_database
from tests.waits import wait_for_health

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
    if wait_for_health(f"http://127.0.0.1:{port}", process, 30):
        return process
    process.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


def _floor(bodies: list[bytes], senders: int, workers: int = 1) -> tuple[float, float, float]:
    """The same upload bodies posted to `workers` bare FastAPI apps under uvicorn
    (`bench_ingest_floor`): their CPU ms per request, and their requests per second from httpx
    senders and from light ones (`_post_light`)."""
    ports = [_free_port() for _ in range(workers)]
    processes = []
    for port in ports:
        command = [sys.executable, "-m", "uvicorn", "bench_ingest_floor:app", "--port", str(port)]
        processes.append(
            subprocess.Popen(
                [*command, "--log-level", "warning"],
                cwd=Path(__file__).resolve().parent,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        for port, process in zip(ports, processes, strict=True):
            if not wait_for_health(f"http://127.0.0.1:{port}", process, 30):
                raise RuntimeError(f"the bare app on port {port} did not start")
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        _post_all(urls, "none", "floor", bodies[:20], 1)  # warm up
        cpu = sum(_server_cpu_s(p) for p in processes)
        elapsed = _post_all(urls, "none", "floor", bodies, senders)
        used = sum(_server_cpu_s(p) for p in processes) - cpu
        light = _post_light(urls, "none", "floor", bodies, senders)
        return used * 1000 / len(bodies), len(bodies) / elapsed, len(bodies) / light
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


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


def _body(table: pa.Table, *, rows: bool, hour: int = 0) -> bytes:
    profiled = table.select([*FEATURES, "proba", "label"])
    start = T0 + dt.timedelta(hours=hour)
    profile = vigil.profile(profiled, window=(start, start + dt.timedelta(hours=1)))
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


def _post_all(
    urls: str | list[str], token: str, model: str, bodies: list[bytes], senders: int
) -> float:
    """Post `bodies` from `senders` threads; with several server URLs each sender takes turns
    over them (sender i starts at the i-th). Returns the wall time."""
    servers = [urls] if isinstance(urls, str) else urls
    chunks = [bodies[i::senders] for i in range(senders)]
    errors: list[str] = []

    def send(first: int, chunk: list[bytes]) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE}
        clients = [httpx.Client(base_url=u, headers=headers, timeout=60) for u in servers]
        try:
            for i, body in enumerate(chunk):
                http = clients[(first + i) % len(clients)]
                response = http.post(f"/api/v1/models/{model}/log", content=body)
                if response.status_code != 200:
                    errors.append(response.text)
        finally:
            for client in clients:
                client.close()

    return _run_senders(send, chunks, errors)


def _run_senders(
    send: Callable[[int, list[bytes]], None], chunks: list[list[bytes]], errors: list[str]
) -> float:
    """Run `send(i, chunk)` for every chunk in a thread of its own, all at once; the wall time
    until the last is done. RuntimeError when a sender recorded an error."""
    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate(chunks)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} upload(s) failed, first: {errors[0]}")
    return elapsed


def _post_light(
    urls: list[str], token: str, model: str, bodies: list[bytes], senders: int
) -> float:
    """As `_post_all`, with the standard library's `http.client` on one kept-alive connection per
    sender and server: about a quarter of httpx's CPU per request, so the senders (threads of this
    one process, sharing its GIL) stop being what limits the rate, and it is the server's."""
    chunks = [bodies[i::senders] for i in range(senders)]
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE}
    path = f"/api/v1/models/{model}/log"

    def send(first: int, chunk: list[bytes]) -> None:
        connections = []
        for url in urls:
            host, port = url.removeprefix("http://").split(":")
            connections.append(http.client.HTTPConnection(host, int(port), timeout=60))
        try:
            for i, body in enumerate(chunk):
                connection = connections[(first + i) % len(connections)]
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    errors.append(answer.decode(errors="replace"))
        finally:
            for connection in connections:
                connection.close()

    return _run_senders(send, chunks, errors)


class _Reads:
    """`GET /api/v1/models` every 20 ms from a thread of its own while the block runs (the
    uploads): how long a reader waits beside the writers."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read)

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as http:
            while not self._stop.wait(0.02):
                started = time.perf_counter()
                response = http.get("/api/v1/models")
                self.latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"GET /api/v1/models answered {response.status_code}")

    def __enter__(self) -> _Reads:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def percentiles(self) -> tuple[float, float]:
        """p50 and p95 in ms."""
        p50, p95 = np.percentile(self.latencies, [50, 95]) * 1000
        return float(p50), float(p95)


def _server_cpu_s(process: subprocess.Popen[Any]) -> float:
    """User + system CPU seconds of the server process so far (all its threads)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _window_bytes(store_url: str, model: str) -> tuple[int, int]:
    """The stored bytes of the model's (one) window once its parts are folded, and its columns."""
    engine = create_store_engine(store_url)
    try:
        with session_factory(engine)() as session:
            model_id = session.scalar(
                text("SELECT id FROM monitored_models WHERE name = :n"), {"n": model}
            )
            try:  # today's code: fold what the compactor has not folded yet
                from vigil.store.window_folds import fold_parts

                fold_parts(session, model_id)
                session.commit()
            except ImportError:  # before: the window blob holds everything
                pass
            blob = session.scalar(
                text(
                    "SELECT profile FROM profile_windows WHERE model_id = :m ORDER BY start LIMIT 1"
                ),
                {"m": model_id},
            )
    finally:
        engine.dispose()
    return len(blob), len(vigil.DatasetProfile.from_bytes(blob).columns)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One contender's run on a fresh store: a new SQLite file, or with `--store` a new
    database on that PostgreSQL server, dropped afterwards."""
    if args.store is None:
        return _measure(args, None)
    with new_database(args.store, f"bench_ingest_{os.getpid()}") as url:
        return _measure(args, url)


def _measure(args: argparse.Namespace, given_url: str | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    store_url = given_url or f"sqlite:///{work / 'vigil.db'}"
    token = _token(store_url)
    servers = []
    for i in range(args.workers):
        port = _free_port()
        servers.append(
            (_serve(store_url, str(work / "artifacts"), port, work / f"server{i}.log"), port)
        )
    urls = [f"http://127.0.0.1:{port}" for _, port in servers]
    url = urls[0]
    report: dict[str, Any] = {"vigil": vigil.__file__, "revision_store": store_url.split(":")[0]}

    def server_cpu() -> float:
        return sum(_server_cpu_s(process) for process, _ in servers)

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
        if args.batches > 2:
            bodies = [_body(_frame(args.batch_rows, s), rows=True) for s in range(args.batches)]
            _post_all(urls, token, "bench-rows", bodies[:2], 1)  # warm up
            elapsed = _post_all(urls, token, "bench-rows", bodies[2:], args.senders)
            report["rows_per_s"] = (args.batches - 2) * args.batch_rows / elapsed
            stored = sum(w.n_rows for w in client.windows("bench-rows"))
            assert stored == args.batches * args.batch_rows, stored

        profile_bodies = [_body(_frame(200, 10_000 + s), rows=False) for s in range(args.profiles)]
        cpu = server_cpu()
        elapsed = _post_all(urls, token, "bench-profiles", profile_bodies, args.senders)
        report["profile_cpu_ms"] = (server_cpu() - cpu) * 1000 / args.profiles
        report["profiles_per_s"] = args.profiles / elapsed
        [window] = client.windows("bench-profiles")
        assert (window.n_uploads, window.n_rows) == (args.profiles, args.profiles * 200), window
        # The same uploads again (new batch ids) from light senders, into a second window.
        light_bodies = [
            _body(_frame(200, 30_000 + s, T0 + dt.timedelta(hours=1)), rows=False, hour=1)
            for s in range(args.profiles)
        ]
        cpu = server_cpu()
        with _Reads(url, token) as reads:
            elapsed = _post_light(urls, token, "bench-profiles", light_bodies, args.senders)
        report["light_profile_cpu_ms"] = (server_cpu() - cpu) * 1000 / args.profiles
        report["light_profiles_per_s"] = args.profiles / elapsed
        report["read_p50_ms"], report["read_p95_ms"] = reads.percentiles()
        uploads = sorted(w.n_uploads for w in client.windows("bench-profiles"))
        assert uploads == [args.profiles, args.profiles], uploads

        small = [_frame(10, 20_000 + s).to_pandas() for s in range(args.calls + 20)]
        latencies = []
        cpu = 0.0
        for i, frame in enumerate(small):
            if i == 20:
                cpu = server_cpu()
            started = time.perf_counter()
            client.log("bench-small", frame, version="v1")
            if i >= 20:
                latencies.append(time.perf_counter() - started)
        report["small_cpu_ms"] = (server_cpu() - cpu) * 1000 / args.calls
        client.close()
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            process.wait(timeout=30)
    report["floor_cpu_ms"], report["floor_per_s"], report["light_floor_per_s"] = _floor(
        profile_bodies, args.senders, args.workers
    )
    report["small_log_p50_ms"] = statistics.median(latencies) * 1000
    report["small_log_p95_ms"] = float(np.percentile(latencies, 95)) * 1000
    size, columns = _window_bytes(store_url, "bench-profiles")
    report["window_bytes"] = size
    report["window_bytes_per_feature"] = size / columns
    report["window_rows"] = args.profiles * 200
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store",
        help="a PostgreSQL server's URL: each run gets a new database on it (default: a new "
        "SQLite file per run)",
    )
    parser.add_argument("--batches", type=int, default=0, help="prediction-row bodies (0: skip)")
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--profiles", type=int, default=300)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="server processes on the store")
    parser.add_argument(
        "--before",
        action="append",
        help="git revision of the code to compare with ('auto', the default: the commit before "
        "issue 19's append-only windows; 'none': measure today's code only); again for more",
    )
    return parser


def _before_revision(given: str) -> str | None:
    """The revision `--before` names ('auto': the commit before issue 19's append-only windows;
    'none': None)."""
    if given == "none":
        return None
    if given != "auto":
        return given
    found = subprocess.run(
        ["git", "log", "--format=%H", "-1", "--grep", "a log call appends its profile as a part"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not found:
        raise SystemExit("no commit of issue 19's append-only windows found; pass --before REV")
    return f"{found}^"


def _child(rest: Sequence[str]) -> dict[str, Any]:
    return measure(_parser().parse_args(rest))


BEFORE_NAMES = ("before", "before2", "before3")


def _contender(name: str, label: str, src: Path, passed: Sequence[str]) -> Contender:
    benchmarks = str(Path(__file__).resolve().parent)
    env = (("PYTHONPATH", f"{src}:{benchmarks}"),)
    return Contender(name, label, VIGIL_PYTHON, Path(__file__), tuple(passed), env)


def main() -> None:
    args, passed = _parser().parse_args(), sys.argv[1:]
    revisions = [_before_revision(given) for given in args.before or ["auto"]]
    befores = [r for r in revisions if r is not None][: len(BEFORE_NAMES)]
    trees = Path(tempfile.mkdtemp(prefix="vigil-bench-trees-"))
    contenders = []
    for name, revision in zip(BEFORE_NAMES, befores, strict=False):
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(trees / name), revision],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        label = f"before ({revision[:12]})"
        contenders.append(_contender(name, label, trees / name / "src", passed))
    contenders.append(_contender("after", "today's code", REPO / "src", passed))
    try:
        measured = measure_all(contenders, args.repeats)
    finally:
        for name in BEFORE_NAMES[: len(befores)]:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(trees / name)],
                cwd=REPO,
                check=False,
                capture_output=True,
            )
    keys = [
        ("profiles_per_s", "profile uploads / s, one window", "higher"),
        ("small_log_p50_ms", "small client.log p50 (ms)", "lower"),
        ("small_log_p95_ms", "small client.log p95 (ms)", "lower"),
        ("small_cpu_ms", "server CPU per small log call (ms)", "lower"),
        ("profile_cpu_ms", "server CPU per profile upload (ms)", "lower"),
        ("window_bytes_per_feature", "stored bytes per window per feature", ""),
        ("light_profiles_per_s", "profile uploads / s, one window, light senders", "higher"),
        ("light_profile_cpu_ms", "server CPU per profile upload, light senders (ms)", "lower"),
        ("read_p50_ms", "GET /api/v1/models beside those uploads, p50 (ms)", "lower"),
        ("read_p95_ms", "the same, p95 (ms)", "lower"),
        ("floor_per_s", "floor: the same uploads to a bare FastAPI route / s", ""),
        ("light_floor_per_s", "floor: the same, light senders / s", ""),
        ("floor_cpu_ms", "floor: its server CPU per request (ms)", ""),
    ]
    if args.batches > 2:
        keys.insert(0, ("rows_per_s", "prediction rows / s", "higher"))
    names = [c.name for c in contenders]
    rows = []
    for key, label, _ in keys:
        values = [measured[n].metric(key) for n in names]
        rows.append([label, *values, *(ratio(values[-1], v) for v in values[:-1])])
    header = [
        "measure",
        *(measured[n].label for n in names),
        *(f"after / {measured[n].label}" for n in names[:-1]),
    ]
    machine = Machine.here()
    backend = (args.store or "sqlite").split(":", 1)[0]
    print(f"Ingestion through the API on loopback, {backend} store, commit {git_revision()}")
    print(machine.markdown())
    print(
        f"{args.profiles} profile uploads ({args.senders} senders, {args.workers} server "
        f"process(es)), {args.calls} small calls, "
        f"median of {args.repeats} runs per contender, load before each run: "
        + ", ".join(f"{r.load_before:.1f}" for n in names for r in measured[n].runs)
    )
    print(markdown_table(header, rows))
    path = write_results(
        "ingest",
        {
            "machine": machine.__dict__,
            "revision": git_revision(),
            "before": befores,
            "store": backend,
            "args": vars(args),
            "contenders": {n: measured[n].to_dict() for n in names},
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main({name: _child for name in (*BEFORE_NAMES, "after")})
    else:
        main()
