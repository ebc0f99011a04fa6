"""alias_at agrees with a replay of the moves, for any sequence of sets, moves and deletes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.registry import Registry
from vigil.registry.core import RegistryCore
from vigil.store.core import Store

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_names = itertools.count()

# Each step: (seconds after the previous step, 0 to delete the alias or a version 1..3 to point
# it at). Steps 0 seconds apart share a timestamp: the later one wins.
steps = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=12)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("registry")
    store = Store.open(f"sqlite:///{root / 'vigil.db'}", str(root / "artifacts"))
    yield Registry(store)
    store.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_alias_at_replays_the_log(
    shared: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: list[tuple[int, int]]
) -> None:
    name = f"m{next(_names)}"
    path = tmp_path / "m.bin"
    path.write_bytes(b"m")
    now = [T0]
    monkeypatch.setattr(RegistryCore, "_now", staticmethod(lambda: now[0]))
    for _ in range(3):
        shared.register(name, path)
    held: int | None = None
    timeline: list[tuple[dt.datetime, int | None]] = []
    for gap, target in steps:
        now[0] += dt.timedelta(seconds=gap)
        if target == 0:
            if held is None:
                continue
            shared.delete_alias(name, "prod")
            held = None
        else:
            shared.set_alias(name, "prod", target)
            held = target
        timeline.append((now[0], held))

    def expected(at: dt.datetime) -> int | None:
        answer = None
        for when, version in timeline:
            if when <= at:
                answer = version
        return answer

    probes = {T0 - dt.timedelta(seconds=1), now[0] + dt.timedelta(seconds=1)}
    for when, _ in timeline:
        probes |= {when, when - dt.timedelta(microseconds=1), when + dt.timedelta(milliseconds=500)}
    for at in sorted(probes):
        assert shared.alias_at(name, "prod", at) == expected(at), at
