"""The pure side of the retraining cadence: onsets and the advice rule."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.analysis.cadence import WindowDrift, advice, onset, retrain_every, when

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def windows(flags: list[bool]) -> list[WindowDrift]:
    return [
        WindowDrift(
            start=T0 + dt.timedelta(days=i),
            version=1,
            n_rows=10,
            drifted=f,
            share_drifted=1.0 if f else 0.0,
            drifted_columns=(),
        )
        for i, f in enumerate(flags)
    ]


@given(st.lists(st.booleans(), max_size=40), st.integers(min_value=1, max_value=5))
def test_the_onset_starts_the_first_run_of_persistence_drifted_windows(
    flags: list[bool], persistence: int
) -> None:
    expected = next(
        (
            T0 + dt.timedelta(days=i)
            for i in range(len(flags) - persistence + 1)
            if all(flags[i : i + persistence])
        ),
        None,
    )
    assert onset(windows(flags), persistence) == expected


@given(st.floats(min_value=0.0, max_value=10_000.0))
def test_retrain_every_is_the_documented_rule(median: float) -> None:
    assert retrain_every(median) == max(1, math.floor(0.8 * median))


def test_advice_needs_a_compared_window() -> None:
    # An empty history has a MissingPiece instead (tests/collab/test_cadence_missing.py).
    with pytest.raises(ValueError, match="at least one compared window"):
        advice([], [], None, None)


def test_times_print_as_dates_at_midnight() -> None:
    assert when(T0) == "2026-01-01"
    assert when(T0 + dt.timedelta(hours=18, minutes=5)) == "2026-01-01 18:05 UTC"
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert when(dt.datetime(2026, 1, 1, 1, 0, tzinfo=berlin)) == "2026-01-01"
