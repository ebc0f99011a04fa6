"""`vigil demo` seeds its store, then serves the dashboard and prints the address and a token
that signs in; `--no-serve` returns after seeding."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.store.s3 import free_port
from tests.waits import patience

pytestmark = pytest.mark.slow


def test_demo_serves_the_dashboard_and_prints_a_token_that_signs_in(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "vigil"),
            "demo",
            "--rows",
            "800",
            "--out",
            str(tmp_path),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "VIGIL_MONITOR_SCHEDULER": "false", "VIGIL_DASHBOARD_WARM_SECONDS": "0"},
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + patience(300)
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("vgl_"):
                break
        out = "".join(lines)
        assert f"== Dashboard: http://127.0.0.1:{port}/ui/" in out, out[-2000:]
        token = lines[-1].strip()
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(200):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            form = client.get("/ui/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            signed = client.post("/ui/login", data={"csrf": csrf.group(1), "token": token})
            assert signed.status_code == 303
            overview = client.get("/ui/")
            assert overview.status_code == 200
            assert "/ui/models/churn" in overview.text
            assert (
                client.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"}).json()[
                    0
                ]["name"]
                == "churn"
            )
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_serve_returns_after_seeding(tmp_path: Path) -> None:
    from vigil.cli import main

    assert main(["demo", "--rows", "800", "--out", str(tmp_path), "--no-serve"]) == 0
    assert (tmp_path / "store" / "vigil.db").exists()
