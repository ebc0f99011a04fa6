"""Profile bytes this process wrote itself, decoded without checking them again.

Every upload into a window decodes the window's stored profile, merges the new one in and encodes
the result, so the same process decodes, again and again, bytes it wrote a moment before from
sketches it had already checked. Those bytes need no second structural check or sandbox round
trip. This process remembers the digests of the last `CAPACITY` profiles it encoded; a profile
whose bytes match one is decoded trusting its sketches. Any other bytes (a client's upload, a
window another server process wrote, a blob stored by an older version) get every check.

The memory is per process, like the CPC sandbox: a digest says "these exact bytes came out of
this process's own encoder", which nothing a client sends can make true. Ingestion also remembers
an upload's bytes once they have passed every check here (`vigil.ingestion.service`), so that
folding them into their window later does not check the same bytes twice; a client's bytes are
trusted only after they passed the checks they would otherwise get again.

Ingestion also hands over the profile those checks produced (`remember(blob, profile)`): the last
`DECODED_CAPACITY` are kept, so that folding an upload into its window soon after (the compactor,
in the same process) takes the decoded profile instead of decoding the same bytes again
(`decoded`). Profiles are immutable (merging makes new ones), so one object can be shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from vigil.lru import LruCache

CAPACITY = 4096
"""Profiles remembered: the windows being written to at once, with room to spare (~0.4 MB)."""

DECODED_CAPACITY = 256
"""Decoded profiles kept: a busy window's parts until the compactor folds them (tens of MB at
most for wide profiles)."""

_TRUSTED: ContextVar[bool] = ContextVar("vigil_profile_bytes_trusted", default=False)


class _Written:
    """A bounded, thread-safe set of digests, oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._digests: LruCache[None] = LruCache(max_entries=capacity)

    def add(self, blob: bytes) -> None:
        self._digests.put(_digest(blob), None)

    def __contains__(self, blob: bytes) -> bool:
        return _digest(blob) in self._digests


class _Decoded:
    """A bounded, thread-safe map from digests to the profiles decoded from those bytes."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._profiles: LruCache[Any] = LruCache(max_entries=capacity)

    def put(self, digest: bytes, profile: Any) -> None:
        self._profiles.put(digest, profile)

    def get(self, digest: bytes) -> Any:
        return self._profiles.get(digest)[1]


def _digest(blob: bytes) -> bytes:
    return hashlib.blake2b(blob, digest_size=32).digest()  # 128-bit collision resistance


WRITTEN = _Written(CAPACITY)
DECODED = _Decoded(DECODED_CAPACITY)


def remember(blob: bytes, profile: Any = None) -> None:
    """Note that this process encoded `blob`, or that `blob` passed every check; with `profile`
    (what decoding `blob` gave, once checked), keep it for `decoded`."""
    WRITTEN.add(blob)
    if profile is not None:
        DECODED.put(_digest(blob), profile)


def decoded(blob: bytes) -> Any:
    """The profile `remember` was given with these exact bytes, if still kept; else None."""
    return DECODED.get(_digest(blob))


@contextmanager
def decoding(blob: bytes) -> Iterator[None]:
    """Decode inside this block: sketches are trusted when this process wrote `blob`."""
    token = _TRUSTED.set(blob in WRITTEN)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def trusted() -> bool:
    """Whether the profile being decoded is one this process wrote (skip re-checking it)."""
    return _TRUSTED.get()
