"""What both sides of bench_tracking.py share: the sizes, the search asked of each system, the
generated values and runs, starting a local server, PostgreSQL databases made and dropped for the
search, and percentiles of latencies."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

EMBEDDED_POINTS = 100_000
SERVER_POINTS = 1_000_000
SEARCH_RUNS = 100_000
QUERIES = 30
FILTER = "metrics.auc > 0.8 and params.model = 'xgb' and tags.team != 'ops'"
ORDER = ["metrics.auc DESC"]
PG_ADMIN = os.environ.get("VIGIL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def metric_values(n: int) -> list[float]:
    return [1.0 / (1 + i % 1000) + (i % 7) * 1e-3 for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
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


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}


def search_rows(n: int) -> list[tuple[str, str, str, float, float, str, int]]:
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


def admin_url(driver: str) -> str:
    return PG_ADMIN.replace("postgresql://", f"postgresql+{driver}://", 1)


def recreate_database(driver: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url(driver), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return admin_url(driver).rsplit("/", 1)[0] + "/" + name


def drop_database(driver: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url(driver), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
