"""A real Prometheus server scrapes /metrics with a bearer token (Debian's `prometheus` package).

Outside CI the test skips when `prometheus` is not installed; in CI it must be.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import LiveServer, make_token
from tests.store.pg import in_ci
from tests.store.s3 import free_port
from tests.test_client import traffic
from tests.waits import patience
from vigil.api.specs import Scope
from vigil.client import Client

pytestmark = pytest.mark.slow


def _prometheus() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        message = "the `prometheus` binary is not installed (apt-get install prometheus)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return binary


def _query(base: str, expression: str) -> list[dict[str, object]]:
    response = httpx.get(f"{base}/api/v1/query", params={"query": expression}, timeout=5)
    result: list[dict[str, object]] = response.json()["data"]["result"]
    return result


def test_prometheus_scrapes_the_metrics(live: LiveServer, admin_token: str, tmp_path: Path) -> None:
    binary = _prometheus()
    reader = make_token(live.store_url, Scope.READ)
    with Client(live.url, token=admin_token, spool_dir=None) as client:
        client.create_model(
            "churn",
            features=["age"],
            predictions=["label"],
            id_column="request_id",
            timestamp_column="ts",
        )
        client.log("churn", traffic(120, hours=1))
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: vigil\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{live.port}']}}]\n"
        f"    authorization: {{type: Bearer, credentials: '{reader}'}}\n"
    )
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + patience(60)
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline and not rows:
            time.sleep(0.5)
            try:
                rows = _query(base, 'vigil_rows_ingested_total{model="churn"}')
            except (httpx.TransportError, KeyError, ValueError):
                continue
        assert rows, (tmp_path / "prometheus.log").read_text()[-2000:]
        assert float(rows[0]["value"][1]) == 120  # type: ignore[index]
        up = _query(base, 'up{job="vigil"}')
        assert float(up[0]["value"][1]) == 1  # type: ignore[index]
        arrival = _query(base, 'vigil_last_arrival_timestamp_seconds{model="churn"}')
        assert float(arrival[0]["value"][1]) > time.time() - 600  # type: ignore[index]
    finally:
        process.terminate()
        process.wait(timeout=30)
