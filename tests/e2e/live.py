"""A real Vigil server in a subprocess (uvicorn on a loopback port), for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.store.s3 import free_port
from tests.waits import wait_for_health
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
        if wait_for_health(self.url, self.process, timeout):
            return self
        if self.process.poll() is not None:
            raise RuntimeError(
                f"server exited with {self.process.returncode}:\n{self.log.read_text()}"
            )
        self.stop()
        raise RuntimeError(
            f"server did not answer /health within {timeout} s (stretched by the load):\n"
            f"{self.log.read_text()}"
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
