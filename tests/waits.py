"""Waits that scale with the machine: a loaded 2-core machine is slower, never wrong.

A test waits for something to happen (a server to answer, a delivery to arrive) up to a patience
that grows with the load per core, so that a busy laptop or CI machine gets the time it needs.
No test asserts on how long something took.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable


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
