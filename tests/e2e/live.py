"""A real Vigil server in a subprocess (uvicorn on a loopback port), for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.store.s3 import free_port
from tests.waits import patience
from vigil.api.specs import Scope
from vigil.store.db import create_store_engine, session_factory, upgrade
from vigil.store.repositories import TokenRepository


def make_token(store_url: str, scope: Scope = Scope.ADMIN) -> str:
    engine = create_store_engine(store_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        _, secret = TokenRepository(session).create(scope, name="e2e")
        session.commit()
    engine.dispose()
    return secret


class LiveServer:
    """`python -m vigil.server` on 127.0.0.1:<port>; stop() ends it (gracefully or with kill -9)."""

    def __init__(
        self,
        store_url: str,
        artifacts_url: str,
        log: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = env or {}
        self.store_url = store_url
        self.artifacts_url = artifacts_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> LiveServer:
        env = {
            **os.environ,
            **self.env,
            "VIGIL_STORE_URL": self.store_url,
            "VIGIL_ARTIFACTS_URL": self.artifacts_url,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vigil.server",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        timeout = patience(timeout)
        deadline = time.monotonic() + timeout
        # One client for all the polls: `httpx.get` makes a client, and with it an SSL context
        # (its CA certificates loaded), at every call. Polled every 50 ms while the server
        # started, that was 15% of the test processes' CPU, taken from the starting server.
        with httpx.Client(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.process.returncode}:\n{self.log.read_text()}"
                    )
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"server did not answer /health within {timeout}s:\n{self.log.read_text()}"
        )

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
