"""Waits that scale with the machine: a loaded 2-core machine is slower, never wrong.

A test waits for something to happen (a server to answer, a delivery to arrive) up to a patience
that grows with the load per core, so that a busy laptop or CI machine gets the time it needs.
No test asserts on how long something took.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx


def load_factor() -> float:
    """The 1-minute load per core, at least 1."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 1.0
    return max(1.0, load / (os.cpu_count() or 1))


def patience(seconds: float) -> float:
    """`seconds` on an idle machine, stretched by the load per core (up to 10 times)."""
    return seconds * min(10.0, load_factor())


def wait_until(condition: Callable[[], object], seconds: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it is true or `patience(seconds)` passed; its last truth value."""
    deadline = time.monotonic() + patience(seconds)
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(interval)


def wait_for_health(
    url: str, process: subprocess.Popen[Any], seconds: float, timeout: float = 1.0
) -> bool:
    """Poll `url`/health every 50 ms until it answers 200 (True), or `process` exited or
    `patience(seconds)` passed (False). One client serves every poll: `httpx.get` makes a client,
    and loads the CA certificates into a new SSL context, at each call, which was 15% of the test
    processes' CPU while servers started beside them."""
    deadline = time.monotonic() + patience(seconds)
    with httpx.Client(timeout=timeout) as http:
        while process.poll() is None:
            try:
                if http.get(f"{url}/health").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
    return False
