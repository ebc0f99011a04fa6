"""What a run may log, checked before it reaches the store: keys, param values, artifact paths and
metric points (with the clock their stamps come from)."""

from __future__ import annotations

import re
import time

from vigil.errors import InvalidInputError

MAX_KEY_LENGTH = 250
MAX_PARAM_LENGTH = 6000
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_=\-][A-Za-z0-9._=\- ]*$")

Point = tuple[str, float, int, int]
"""(key, value, step, timestamp in ms)."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def check_key(key: str, what: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{what} key {key!r} must be a string of 1 to {MAX_KEY_LENGTH} characters",
            key=str(key),
        )
    return key


def check_artifact_path(path: str) -> str:
    """A run's artifact path: relative, `/`-separated, plain segments (no `.`, `..` or empty)."""
    segments = path.split("/")
    if not path or len(path) > 1000 or not all(_PATH_SEGMENT.match(s) for s in segments):
        raise InvalidInputError(
            f"artifact path {path!r} must be relative, made of segments of letters, digits, "
            "spaces and . _ = - (not '.' or '..'), at most 1000 characters",
            path=path,
        )
    return path
