"""Fold leases: one process folds a window at a time, and a killed holder's windows are taken
over (`vigil.store.leases`, `vigil.ingestion.compactor`), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

import vigil
from tests.waits import patience, wait_until
from vigil.api.specs import ModelSpec
from vigil.api.wire import LogBatch
from vigil.ingestion import compactor, service
from vigil.ingestion.compactor import CompactionRound, compact_round, fold_if_free
from vigil.store.core import Store
from vigil.store.db import create_store_engine
from vigil.store.leases import (
    FOLD_LOCK_BASE,
    MODEL_LOCK_BASE,
    RECORD_LOCK_BASE,
    TICK_LOCK_BASE,
    Leases,
)
from vigil.store.models import ProfileWindow, ProfileWindowPart

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _log(store: Store, value: float, start: dt.datetime = T0) -> None:
    profile = vigil.profile({"x": [value, 1.0]}, window=(start, start + HOUR))
    with store.session() as session:
        service.ingest_log(session, store.predictions, "m", LogBatch(profiles=[profile.to_bytes()]))


def _windows(store: Store, parts: int, windows: int = 1) -> list[int]:
    """Windows with `parts` parts each (a window's first upload is its profile, not a part)."""
    with store.session() as session:
        service.create_model(session, ModelSpec(name="m", features=["x"]))
    for w in range(windows):
        for k in range(parts + 1):
            _log(store, float(k), T0 + w * HOUR)
    with store.session() as session:
        return list(session.scalars(select(ProfileWindow.id).order_by(ProfileWindow.start)))


def _parts(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProfileWindowPart)) or 0)


def test_a_lease_has_one_holder_at_a_time(store: Store) -> None:
    with Leases(store.engine) as a, Leases(store.engine) as b:
        assert a.take(7)
        assert a.take(7)  # a holder asking again still has it
        assert not b.take(7)
        assert b.take(8)
        assert not a.take(8)
        a.release(7)
        assert b.take(7)
        assert not a.take(7)
        assert b.held == {7, 8}
    with Leases(store.engine) as c:  # closing released them
        assert c.take(7)
        assert c.take(8)
        with pytest.raises(ValueError, match="2\\*\\*63"):
            c.take(-1)


def test_on_an_in_memory_store_every_lease_is_granted() -> None:
    """One process, one connection: no other holder can exist, and no compactor thread runs."""
    engine = create_store_engine("sqlite://")
    try:
        with Leases(engine) as a, Leases(engine) as b:
            assert a.take(7)
            assert b.take(7)
    finally:
        engine.dispose()


def test_a_window_leased_elsewhere_is_left_to_its_holder(store: Store) -> None:
    [window_id] = _windows(store, parts=3)
    with Leases(store.engine) as other:
        assert other.take(FOLD_LOCK_BASE + window_id)
        skipped = compact_round(store, min_parts=1, settle_seconds=0)
        assert skipped == CompactionRound(windows=0, parts=0, raced=0, leased=1)
        assert _parts(store) == 3
    done = compact_round(store, min_parts=1, settle_seconds=0)
    assert done == CompactionRound(windows=1, parts=3, raced=0, leased=0)
    assert _parts(store) == 0


def test_an_uploads_fold_leaves_a_leased_window_to_its_holder(store: Store) -> None:
    [window_id] = _windows(store, parts=2)
    with Leases(store.engine) as other, store.session() as session:
        assert other.take(FOLD_LOCK_BASE + window_id)
        assert fold_if_free(session, window_id) is None
        service.fold_after_commit(session, window_id)  # every FOLD_EVERY-th upload's own fold
        assert _parts(store) == 2
        other.release(FOLD_LOCK_BASE + window_id)
        service.fold_after_commit(session, window_id)
        assert _parts(store) == 0
        assert fold_if_free(session, window_id) is None  # nothing left to fold


def test_a_window_folded_since_it_was_listed_is_not_folded_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease's previous holder may have folded the window after this round listed it: the
    round checks that it is still due before folding what arrived since."""
    [window_id] = _windows(store, parts=1)
    monkeypatch.setattr(compactor, "windows_with_parts", lambda *a, **k: [window_id])
    result = compact_round(store, min_parts=64, settle_seconds=3600)
    assert result.parts == 0
    assert _parts(store) == 1
    monkeypatch.undo()
    assert compact_round(store, min_parts=1, settle_seconds=0).parts == 1


def test_two_compactors_share_the_windows_without_racing(store: Store) -> None:
    """Two compactors at once (as two processes would; the leases conflict between holders in
    one process too): every part folded once, no fold discarded as raced."""
    windows = _windows(store, parts=4, windows=6)
    rounds: list[CompactionRound] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(20):
                rounds.append(compact_round(store, min_parts=1, settle_seconds=0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(patience(120))
    assert errors == []
    assert sum(r.parts for r in rounds) == 4 * len(windows)
    assert sum(r.raced for r in rounds) == 0
    assert _parts(store) == 0


HOLD = """
import sys, time
from vigil.store.db import create_store_engine
from vigil.store.leases import (
    FOLD_LOCK_BASE,
    MODEL_LOCK_BASE,
    RECORD_LOCK_BASE,
    TICK_LOCK_BASE,
    Leases,
)
leases = Leases(create_store_engine(sys.argv[1]))
assert leases.take(int(sys.argv[2]))
print("taken", flush=True)
time.sleep(600)
"""


def test_a_killed_holders_windows_are_taken_over(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    [window_id] = _windows(store, parts=3)
    key = FOLD_LOCK_BASE + window_id
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, store_url, str(key)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "taken"
        assert compact_round(store, min_parts=1, settle_seconds=0).leased == 1
        holder.send_signal(signal.SIGKILL)
        holder.wait(patience(30))
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    # PostgreSQL drops the dead connection's locks once it sees it closed: at once, or nearly.
    engine = create_store_engine(store_url)
    try:
        with Leases(engine) as probe:
            assert wait_until(lambda: probe.take(key), patience(30))
    finally:
        engine.dispose()
    assert compact_round(store, min_parts=1, settle_seconds=0).parts == 3
    assert _parts(store) == 0


def test_the_lock_key_spaces_never_meet() -> None:
    """Every advisory lock and lease key is its space's base plus a row id below 2**32: the
    spaces (recording, tick, model, fold) are that far apart and fit a signed 64-bit key."""
    bases = sorted([RECORD_LOCK_BASE, TICK_LOCK_BASE, MODEL_LOCK_BASE, FOLD_LOCK_BASE])
    assert all(b - a >= 2**32 for a, b in itertools.pairwise(bases))
    assert bases[-1] + 2**32 <= 2**63
