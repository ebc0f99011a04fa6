"""Figures that do not add up, for a period of stored windows: quantiles are read from the
merge of the windows' sketches, never averaged over them; moments merge exactly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tests.periods.conftest import local_client
from tests.sketch_bounds import assert_quantiles_within
from vigil.profile.columns.numeric import NumericColumn


def test_a_months_quantiles_come_from_its_merged_sketches(tmp_path: Path) -> None:
    """A quantile does not add up over days: a month's is read from the merge of its days'
    KLL sketches (within the sketch's rank error of the month's own values), its mean and
    standard deviation from the merged moments (exact)."""
    client = local_client(tmp_path)
    client.create_model("m", features=["income"], timestamp_column="ts", window="day")
    rng = np.random.default_rng(11)
    start = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    # Each day's values have their own scale, so the mean of daily medians is not the median.
    days = [rng.lognormal(day / 10, 1, 200) for day in range(29)]
    for day, values in enumerate(days):
        times = [start + dt.timedelta(days=day, seconds=int(s)) for s in range(0, 86400, 432)]
        client.log("m", {"ts": times, "income": values})
    month = client.data.profile("m", start=start, end=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    client.close()
    column = month.columns["income"]
    assert isinstance(column, NumericColumn)
    values = np.concatenate(days)
    assert column.count == len(values) == 29 * 200
    assert column.mean == pytest.approx(values.mean(), rel=1e-12)
    assert column.std == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert_quantiles_within(column, values, (0.1, 0.5, 0.9))
    error = column.quantiles.rank_error
    averaged = float(np.mean([np.median(d) for d in days]))
    assert abs(float(np.mean(values <= averaged)) - 0.5) > error  # what averaging would give
