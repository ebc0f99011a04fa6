"""The time budget of the work in progress, for long loops that are not SQL.

The server sets `DEADLINE` for each request (`vigil.server.limits.RequestTimeLimit`); the thread
pool carries it to the request's worker thread. SQL past it is interrupted by the store's guard;
a loop that reads or computes a lot calls `check` now and then, so the work of a request that
already got its time-limit answer stops instead of running on. Outside a request there is no
deadline and `check` does nothing.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from vigil.errors import TimeLimitError

# The monotonic time by which the current request must have started its answer, or None.
DEADLINE: ContextVar[float | None] = ContextVar("vigil_request_deadline", default=None)


def expired() -> bool:
    """Whether the current work has run past its deadline."""
    deadline = DEADLINE.get()
    return deadline is not None and time.monotonic() > deadline


def check(doing: str) -> None:
    """Raise TimeLimitError when the current work has run past its deadline."""
    if expired():
        raise TimeLimitError(f"the request ran out of its time limit while {doing}")
