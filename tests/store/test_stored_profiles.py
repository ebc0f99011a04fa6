"""A stored window whose profile no longer decodes is logged, counted and skipped: reading the
model's windows, a monitor tick, the dashboard warmer, /metrics and a new upload into that very
window all keep working (issue 14: nothing stored can crash a reader)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.client import Client
from vigil.ingestion import service
from vigil.monitor import MonitorSettings
from vigil.profile import DatasetProfile
from vigil.server import Settings, create_app
from vigil.server.dashboard.drift_cache import DriftCache, Warmer
from vigil.store.core import Store
from vigil.store.models import ProfileWindow
from vigil.store.window_folds import fold_window

START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
# A valid envelope and checksum around a payload that is not a profile: only decoding finds out.
CORRUPT = struct.pack("<4sHI", b"VGPF", 1, zlib.crc32(b"\x78\x01garbage")) + b"\x78\x01garbage"


def _rows(day: int, rng: np.random.Generator) -> dict[str, object]:
    n = 200
    times = [START + day * DAY + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, 80_000, n)]
    return {"at": times, "x": rng.normal(0.0, 1.0, n), "city": rng.choice(["a", "b"], n)}


@pytest.fixture
def corrupted(tmp_path: Path) -> Iterator[tuple[Store, str, ProfileWindow]]:
    """Nine days of a model's traffic, one stored window (day 3, in the first week) corrupted."""
    url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a")
    client = Client.local(url, artifacts)
    rng = np.random.default_rng(3)
    try:
        client.create_model("m", features=["x", "city"], timestamp_column="at")
        for day in range(9):
            client.log("m", _rows(day, rng))
        client.flush()
    finally:
        client.close()
    store = Store.open(url, artifacts)
    with store.session() as session:
        victim = session.scalars(
            select(ProfileWindow).where(ProfileWindow.start >= START + 3 * DAY).limit(1)
        ).one()
        session.execute(
            update(ProfileWindow).where(ProfileWindow.id == victim.id).values(profile=CORRUPT)
        )
        session.commit()
        session.expunge(victim)
    try:
        yield store, url, victim
    finally:
        store.close()


def test_reading_the_models_windows_skips_the_corrupt_one_and_says_so(
    corrupted: tuple[Store, str, ProfileWindow], caplog: pytest.LogCaptureFixture
) -> None:
    store, _, victim = corrupted
    with caplog.at_level(logging.WARNING, logger="vigil.store"), store.session() as session:
        merged = service.merged_profile(session, "m")
        rows = sum(w.n_rows for w in service.list_windows(session, "m"))
    assert merged.n_rows == rows - victim.n_rows
    assert f"model id {victim.model_id} starting {victim.start.isoformat()}" in caplog.text
    assert store.undecodable.counts() == {victim.model_id: 1}


def test_a_monitor_tick_and_the_dashboard_warmer_skip_the_corrupt_window(
    corrupted: tuple[Store, str, ProfileWindow],
) -> None:
    store, _, victim = corrupted
    settings = MonitorSettings()
    monitors.apply(
        store,
        f"""
monitors:
  - name: drift
    kind: data_drift
    target: {{model: m}}
    window: day
    baseline: {{type: period, start: "{START.isoformat()}", end: "{(START + 7 * DAY).isoformat()}"}}
    threshold: {{type: static, upper: 0.5}}
""",
        policy=settings.outbound_policy(),
    )
    result = monitors.tick(store, settings, now=START + 9 * DAY + dt.timedelta(minutes=5))
    # The baseline week holds the corrupt window: the drift of day 8 is measured without it.
    assert [r.window_start for r in result.results] == [START + 8 * DAY]
    assert result.results[0].value is not None
    assert store.undecodable.counts() == {victim.model_id: 1}

    cache = DriftCache(store)
    Warmer(cache, interval=3600).warm_once()
    cells = cache.statistics.cells("m", "day")
    assert sorted(cells) == [START + d * DAY for d in range(9)]  # the corrupt day's too
    assert store.undecodable.counts()[victim.model_id] > 1


def test_metrics_report_the_skipped_window_and_a_new_upload_replaces_it(
    corrupted: tuple[Store, str, ProfileWindow],
) -> None:
    store, url, victim = corrupted
    token = store.create_token(Scope.READ, name="metrics")
    config = Settings(store_url=url, artifacts_url=store.artifacts.url)
    with store.session() as session:
        service.merged_profile(session, "m")
        session.rollback()
    with TestClient(create_app(config, store=store)) as api:
        text = api.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    # Every skipped read counts (the app's dashboard warmer reads the window too).
    found = re.search(r'^vigil_undecodable_windows_total\{model="m"\} (\d+)\.0$', text, re.M)
    assert found is not None
    assert int(found.group(1)) >= 1

    client = Client.local(url, str(Path(store.artifacts.url.removeprefix("file://"))))
    try:
        client.log("m", _rows(3, np.random.default_rng(9)))
        client.flush()
    finally:
        client.close()
    with store.session() as session:
        # The upload is a part of the window, read beside the corrupt blob (which is skipped) ...
        assert service.merged_profile(session, "m", start=victim.start, end=victim.end).n_rows > 0
        # ... and folding the window replaces the blob with what decodes.
        assert fold_window(session, victim.id) == 1
        session.commit()
        blob = session.get(ProfileWindow, victim.id)
        assert blob is not None
        assert DatasetProfile.from_bytes(blob.profile).n_rows > 0
