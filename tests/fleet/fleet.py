"""The fleet's parts that are not Vigil: nginx as the load balancer in front of several servers,
and a webhook receiver that can hold a request (to kill its sender while it waits)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.store.pg import in_ci
from tests.store.s3 import free_port
from tests.waits import patience, wait_for_health

NGINX = "/usr/sbin/nginx"

CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    log_format fleet '$status $request_method $upstream_addr $upstream_status';
    access_log {dir}/access.log fleet;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 32m;
    upstream vigil {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://vigil;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            # A killed server's requests go to the others; POSTs too, as every write the clients
            # send here carries a batch id that makes it idempotent.
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def nginx_or_skip() -> str:
    """Debian's nginx (`scripts/ensure-system-deps.sh` installs it); in CI its absence fails."""
    path = NGINX if os.access(NGINX, os.X_OK) else shutil.which("nginx")
    if path is None:
        message = f"nginx is needed at {NGINX} (scripts/ensure-system-deps.sh installs it)"
        if in_ci():
            pytest.fail(f"{message}; in CI it must be installed", pytrace=False)
        pytest.skip(message)
    return path


@contextmanager
def nginx(upstreams: Sequence[int], folder: Path) -> Iterator[str]:
    """nginx in the foreground on a free loopback port, balancing over `upstreams` (loopback
    ports); yields its URL. Its config, pid, logs and temp files are in `folder`."""
    binary = nginx_or_skip()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams
    )
    # As root, nginx runs its worker as `nobody`, who cannot write to the tmp folder.
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(CONF.format(dir=folder, user=user, servers=servers, port=port))
    log = (folder / "nginx.out").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(folder),
            "-c",
            str(conf),
            "-e",
            str(folder / "error.log"),
            "-g",
            "daemon off;",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_for_health(url, process, 15, timeout=2):
            if process.poll() is not None:
                log_file = folder / "error.log"
                errors = log_file.read_text() if log_file.exists() else ""
                raise RuntimeError(f"nginx exited with {process.returncode}: {errors}")
            raise RuntimeError(f"nginx did not answer on {url}")
        yield url
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def upstreams_used(folder: Path) -> dict[str, int]:
    """Requests per upstream address in nginx's access log (a retried one counts for each: nginx
    lists the addresses it tried as "a, b", or "a : b" across an internal redirect)."""
    counts: dict[str, int] = {}
    for line in (folder / "access.log").read_text().splitlines():
        for address in re.findall(r"\d+\.\d+\.\d+\.\d+:\d+", line):
            counts[address] = counts.get(address, 0) + 1
    return counts


@dataclass(frozen=True)
class Received:
    delivery: str
    event: str
    body: Any


@dataclass
class Receiver:
    """A webhook receiver on loopback. `acknowledged` are the requests it answered 200 (a
    delivery counts once it is there). `hold()` makes it keep the next request unanswered
    until `release()`, then close its connection without an answer."""

    url: str = ""
    port: int = 0
    acknowledged: list[Received] = field(default_factory=list)
    held: Received | None = None
    held_peer: tuple[str, int] | None = None
    _arm: threading.Event = field(default_factory=threading.Event)
    _holding: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self) -> None:
        self._arm.set()

    def wait_held(self, seconds: float) -> bool:
        return self._holding.wait(patience(seconds))

    def release(self) -> None:
        self._release.set()

    def count(self, delivery: str) -> int:
        with self._lock:
            return sum(r.delivery == delivery for r in self.acknowledged)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got = Received(
                self.headers.get("X-Vigil-Delivery", ""),
                self.headers.get("X-Vigil-Event", ""),
                json.loads(raw or b"null"),
            )
            with state._lock:
                hold = state._arm.is_set() and state.held is None
                if hold:
                    state.held, state.held_peer = got, self.client_address[:2]
            if hold:
                state._holding.set()
                state._release.wait(120)
                self.close_connection = True  # no answer: the sender never learns it arrived
                return
            with state._lock:
                state.acknowledged.append(got)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = int(server.server_address[1])
    state.url = f"http://127.0.0.1:{state.port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release()
        server.shutdown()
        server.server_close()


def owner(pids: Sequence[int], peer: tuple[str, int], port: int) -> int | None:
    """Which of `pids` holds the TCP connection from `peer` to local `port`."""
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        for c in connections:
            if c.laddr and c.raddr and c.laddr.port == peer[1] and c.raddr.port == port:
                return pid
    return None
