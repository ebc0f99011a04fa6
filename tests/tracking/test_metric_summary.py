"""Pre-aggregated metric summaries: a long history downsampled from a few hundred rows gives
the same points as bucketing every point by hand, and older points are folded in."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from vigil.store.core import Store
from vigil.store.tracking_tables import MetricSummary
from vigil.tracking import metric_summary
from vigil.tracking.metrics import downsample
from vigil.tracking.service import TrackingService


@pytest.fixture
def service(tmp_path: Path) -> TrackingService:
    return TrackingService(Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a")))


def _expected(values: list[float], max_points: int) -> set[tuple[int, float]]:
    """The buckets by hand: consecutive points of the chosen level's width, merged into
    `max_points // 2` groups, each keeping its lowest and highest point (step, value)."""
    n = len(values)
    level = next(
        lv
        for lv in range(metric_summary.LEVELS)
        if math.ceil(n / (metric_summary.BASE * 4**lv)) <= 2 * max_points
    )
    width = metric_summary.BASE * 4**level
    n_rows = math.ceil(n / width)
    kept: set[tuple[int, float]] = set()
    for group in range(max_points // 2):
        rows = [r for r in range(n_rows) if r * (max_points // 2) // n_rows == group]
        if not rows:
            continue
        chunk = range(rows[0] * width, min(n, (rows[-1] + 1) * width))
        finite = [i for i in chunk if not math.isnan(values[i])]
        if not finite:
            kept.add((chunk[0], math.nan))
            continue
        low = min(finite, key=lambda i: (values[i], i))
        high = max(finite, key=lambda i: (values[i], -i))
        kept |= {(low, values[low]), (high, values[high])}
    return kept


def test_a_long_history_is_downsampled_from_its_summary_like_by_hand(
    service: TrackingService,
) -> None:
    rng = np.random.default_rng(7)
    n = 150_000
    values = rng.normal(size=n)
    values[rng.choice(n, 500, replace=False)] = np.nan
    values[12_345] = 40.0  # spikes
    values[99_999] = -40.0
    run = service.create_run(service.create_experiment("e").id)
    sizes = [1, 63, 64, 1000, 48_872, 100_000]  # uneven batches straddle bucket edges
    start = 0
    for size in sizes:
        points = [("m", float(values[i]), i, 10 * i) for i in range(start, start + size)]
        service.log_batch(run.id, metrics=points)
        start += size
    assert start == n
    for max_points in (100, 1000):
        got = service.metric_history(run.id, "m", max_points)
        assert len(got) <= max_points
        assert [p.step for p in got] == sorted(p.step for p in got)
        pairs = {(p.step, p.value) for p in got if not math.isnan(p.value)}
        expected = {e for e in _expected(values.tolist(), max_points) if not math.isnan(e[1])}
        assert pairs == expected
        assert (12_345, 40.0) in pairs
        assert (99_999, -40.0) in pairs
        assert all(p.timestamp_ms == 10 * p.step for p in got)
    # a short history is read whole, exactly
    short = service.create_run(service.create_experiment("short").id)
    service.log_batch(short.id, metrics=[("m", float(i), i, i) for i in range(50)])
    assert [p.value for p in service.metric_history(short.id, "m", 100)] == list(range(50))


def test_points_logged_before_summaries_existed_are_folded_in(service: TrackingService) -> None:
    run = service.create_run(service.create_experiment("e").id)
    service.log_batch(run.id, metrics=[("m", float(i % 7), i, i) for i in range(70_000)])
    with service.store.session() as session:  # as if logged by a Vigil without summaries
        session.execute(delete(MetricSummary))
        session.commit()
    with service.store.session() as session:  # the summary is empty: it cannot answer
        assert metric_summary.downsampled(session.connection(), run.id, "m", 100) is None
    # so every point is read and thinned by hand
    got = service.metric_history(run.id, "m", 100)
    assert 0 < len(got) <= 100
    assert got == downsample(service.metric_history(run.id, "m"), 100)
    service.log_batch(run.id, metrics=[("m", 99.0, 70_000 + i, 0) for i in range(10)])
    with service.store.session() as session:
        counted = session.scalar(
            select(func.sum(MetricSummary.count)).where(
                MetricSummary.level == metric_summary.TOP, MetricSummary.key == "m"
            )
        )
    assert counted == 70_010
    got = service.metric_history(run.id, "m", 100)
    assert max(p.value for p in got) == 99.0
    assert min(p.value for p in got) == 0.0
