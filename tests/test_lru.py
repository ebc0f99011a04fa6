"""The one LRU cache (`vigil.lru`): its bounds, its recency, its stats, and threads sharing it.
Its scan resistance (`admit_every`) is tested where the evaluation relies on it
(tests/monitor/test_cache_admission.py)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from vigil.lru import LruCache


def test_lru_cache_forgets_the_least_recently_used_past_its_bounds() -> None:
    by_entries: LruCache[int | None] = LruCache(max_entries=2)
    by_entries.put("a", 1)
    by_entries.put("b", None)
    assert by_entries.get("a") == (True, 1)  # "a" is now the most recent
    by_entries.put("c", 3)
    assert by_entries.get("b") == (False, None)
    assert by_entries.get("a") == (True, 1)
    assert by_entries.get("c") == (True, 3)
    assert by_entries.stats.evictions == 1

    by_bytes: LruCache[bytes] = LruCache(max_bytes=10, size=len)
    by_bytes.put("x", b"123456")
    by_bytes.put("y", b"1234")
    assert by_bytes.bytes == 10
    by_bytes.put("z", b"12")
    assert "x" not in by_bytes
    assert by_bytes.bytes == 6
    by_bytes.put("huge", b"0" * 11)  # larger than the bound: not kept at all
    assert len(by_bytes) == 0
    assert by_bytes.bytes == 0
    computed: list[bytes] = []

    def compute(value: bytes) -> bytes:
        computed.append(value)
        return value

    assert by_bytes.get_or_compute("w", lambda: compute(b"1")) == b"1"
    assert by_bytes.get_or_compute("w", lambda: compute(b"2")) == b"1"
    assert computed == [b"1"]


def test_discard_forgets_a_key_and_its_size() -> None:
    cache: LruCache[bytes] = LruCache(max_bytes=10, size=len)
    cache.put("a", b"1234")
    cache.put("b", b"56")
    cache.discard("a")
    cache.discard("missing")
    assert ("a" in cache, "b" in cache, cache.bytes, len(cache)) == (False, True, 2, 1)


def test_contains_does_not_refresh_an_entry() -> None:
    cache: LruCache[int] = LruCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert "a" in cache
    cache.put("c", 3)  # "a" is still the least recently used
    assert "a" not in cache
    assert ("b" in cache, "c" in cache) == (True, True)


def test_putting_a_kept_key_replaces_it_and_its_size() -> None:
    cache: LruCache[bytes] = LruCache(max_bytes=10, size=len)
    cache.put("a", b"1234")
    cache.put("a", b"12")
    assert (len(cache), cache.bytes, cache.get("a")) == (1, 2, (True, b"12"))
    cache.clear()
    assert (len(cache), cache.bytes) == (0, 0)


@pytest.mark.parametrize(
    "bounds", [{"max_entries": -1}, {"max_bytes": -1}, {"admit_every": 0}], ids=str
)
def test_a_negative_bound_names_the_parameter(bounds: dict[str, Any]) -> None:
    (name,) = bounds
    with pytest.raises(ValueError, match=name):
        LruCache(**bounds)


def test_threads_sharing_a_cache_keep_its_bounds_and_its_byte_count() -> None:
    cache: LruCache[bytes] = LruCache(max_entries=50, max_bytes=400, size=len)
    start = threading.Barrier(4)

    def work(seed: int) -> None:
        start.wait()
        for i in range(3_000):
            key = (seed * 7 + i) % 120
            if i % 3:
                cache.put(key, b"x" * (key % 13 + 1))
            else:
                cache.get(key)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [cache.get(key) for key in range(120)]
    values = [value for found, value in kept if found]
    assert len(values) == len(cache) <= 50
    assert cache.bytes == sum(len(v) for v in values if v is not None) <= 400
    assert all(v == b"x" * (k % 13 + 1) for k, (f, v) in enumerate(kept) if f)
