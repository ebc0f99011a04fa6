"""A full baseline cache is scan resistant: a tick reads its baselines in the same order every
time, and a loop larger than the cache still hits what the cache holds (a plain LRU would hit
nothing); it turns over slowly, and an entry larger than the whole cache never flushes it."""

from __future__ import annotations

from vigil.lru import LruCache
from vigil.monitor.caches import EvaluationCache


def _loop(cache: LruCache[int], keys: range, rounds: int) -> list[int]:
    hits = []
    for _ in range(rounds):
        before = cache.stats.hits
        for key in keys:
            cache.get_or_compute(key, lambda key=key: key)
        hits.append(cache.stats.hits - before)
    return hits


def test_a_plain_lru_smaller_than_the_loop_never_hits() -> None:
    assert _loop(LruCache(max_entries=50), range(100), 4) == [0, 0, 0, 0]


def test_with_admission_a_loop_larger_than_the_cache_hits_what_it_holds() -> None:
    cache: LruCache[int] = LruCache(max_entries=50, admit_every=16)
    hits = _loop(cache, range(100), 4)
    assert hits[0] == 0
    assert all(h >= 45 for h in hits[1:])
    assert len(cache) == 50
    assert cache.stats.refused > 0


def test_admission_changes_nothing_while_there_is_room() -> None:
    cache: LruCache[int] = LruCache(max_entries=200, admit_every=16)
    assert _loop(cache, range(100), 3) == [0, 100, 100]
    assert cache.stats.refused == 0


def test_a_full_cache_still_turns_over_and_an_entry_larger_than_it_is_refused() -> None:
    cache: LruCache[bytes] = LruCache(max_bytes=10, size=len, admit_every=2)
    for key in "abcde":
        cache.put(key, b"xx")
    cache.put("f", b"xx")  # refused (the first refusal of two)
    assert "f" not in cache
    cache.put("g", b"xx")  # admitted: displaces the least recently used
    assert "g" in cache
    assert "a" not in cache
    cache.put("huge", b"0" * 11)
    cache.put("huge", b"0" * 11)
    assert "huge" not in cache
    assert len(cache) == 5


def test_the_evaluation_caches_baselines_are_scan_resistant() -> None:
    assert EvaluationCache().references.admit_every == 16
