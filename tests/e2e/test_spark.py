"""Profiling on a real local Spark session (local[2]) equals profiling the same rows locally."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from tests.spark_needs import require_spark
from vigil.errors import InvalidInputError
from vigil.profile import NumericColumn
from vigil.profile.groups import profile_groups

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    require_spark("the Spark suite")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from vigil.spark import local_session

    session = local_session("local[2]", "vigil-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = np.random.default_rng(11)
    n = 40_000
    seconds = rng.integers(0, 2 * 86_400, n)
    ts = np.datetime64("2026-03-01T00:00:00", "us") + (seconds * 1_000_000).astype(
        "timedelta64[us]"
    )
    x = rng.normal(5, 2, n)
    x[rng.random(n) < 0.03] = np.nan
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "x": x,
            "y": rng.lognormal(0, 1, n),
            "k": pa.array(rng.integers(0, 30, n)),
            "city": rng.choice(["oslo", "lyon", "graz", "turku"], n),
            "flag": rng.random(n) < 0.2,
        }
    )


def _assert_same(local: vigil.DatasetProfile, remote: vigil.DatasetProfile) -> None:
    assert remote.n_rows == local.n_rows
    assert set(remote.columns) == set(local.columns)
    for name, column in local.columns.items():
        other = remote.columns[name]
        assert other.kind == column.kind, name
        assert (other.count, other.null_count) == (column.count, column.null_count), name
        if isinstance(column, NumericColumn):
            assert isinstance(other, NumericColumn)
            assert other.nan_count == column.nan_count
            assert (other.min, other.max) == (column.min, column.max)
            assert other.mean == pytest.approx(column.mean, rel=1e-9)
            assert other.variance == pytest.approx(column.variance, rel=1e-9)
            for q in (0.1, 0.5, 0.9):
                # Both within the rank bound of the truth, so ranks within twice the bound; with
                # ties a value's rank is an interval.
                answer = other.quantile(q)
                low = column.quantiles.rank(answer, inclusive=False)
                high = column.quantiles.rank(answer)
                slack = 2 * column.quantiles.rank_error
                assert low - slack <= q <= high + slack, (name, q, low, high)
    city, remote_city = local.columns["city"].to_dict(), remote.columns["city"].to_dict()
    assert remote_city.pop("length")["mean"] == pytest.approx(city.pop("length")["mean"], rel=1e-12)
    assert remote_city == city
    assert remote.columns["flag"] == local.columns["flag"]


def test_spark_profile_equals_local_profile(spark: Any, table: pa.Table) -> None:
    from vigil import spark as vspark

    frame = spark.createDataFrame(table.to_pandas()).repartition(3)
    remote = vspark.profile(frame)
    local = vigil.profile(frame.toArrow())
    _assert_same(local, remote)


def test_one_pass_gives_a_profile_per_window_and_segment(spark: Any, table: pa.Table) -> None:
    from vigil import spark as vspark

    frame = spark.createDataFrame(table.to_pandas()).repartition(2)
    remote = vspark.profile(frame, window_column="ts", window="day", segment_columns=["city"])
    local = profile_groups(
        frame.toArrow(), window_column="ts", window="day", segment_columns=["city"]
    )
    assert list(remote) == list(local)
    assert len(remote) == 2 * 4
    for key, prof in local.items():
        assert remote[key].window == prof.window
        assert remote[key].n_rows == prof.n_rows
        assert remote[key].columns["x"].mean == pytest.approx(prof.columns["x"].mean, rel=1e-9)  # type: ignore[union-attr]


@pytest.mark.parametrize("window", ["month", "month@Europe/Oslo", "quarter", "week"])
def test_calendar_windows_on_spark_equal_the_local_grouping(
    spark: Any, table: pa.Table, window: str
) -> None:
    from vigil import spark as vspark
    from vigil.windows import Grid

    rng = np.random.default_rng(3)
    seconds = rng.integers(0, 200 * 86_400, table.num_rows)
    ts = np.datetime64("2025-10-15T00:00:00", "us") + (seconds * 1_000_000).astype(
        "timedelta64[us]"
    )
    spread = table.set_column(0, "ts", pa.array(ts, pa.timestamp("us", tz="UTC")))
    frame = spark.createDataFrame(spread.to_pandas()).repartition(3)
    remote = vspark.profile(frame, window_column="ts", window=window)
    local = profile_groups(frame.toArrow(), window_column="ts", window=window)
    assert list(remote) == list(local)
    grid = Grid.parse(window)
    for key, prof in local.items():
        assert key.window_start is not None
        assert remote[key].window == prof.window == vigil.Window(*grid.window_of(key.window_start))
        assert remote[key].n_rows == prof.n_rows
    assert sum(p.n_rows for p in remote.values()) == table.num_rows


def test_wide_tables_are_profiled_in_column_batches(spark: Any, table: pa.Table) -> None:
    from vigil import spark as vspark

    frame = spark.createDataFrame(table.to_pandas()).repartition(2)
    whole = vspark.profile(frame)
    batched = vspark.profile(frame, column_batch=2)
    _assert_same(whole, batched)


def test_bad_arguments(spark: Any, table: pa.Table) -> None:
    from vigil import spark as vspark

    frame = spark.createDataFrame(table.slice(0, 10).to_pandas())
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        vspark.profile(frame, window_column="nope")
    with pytest.raises(InvalidInputError, match="column_batch"):
        vspark.profile(frame, column_batch=0)
    with pytest.raises(InvalidInputError, match="window 'fortnight' is not one of"):
        vspark.profile(frame, window_column="ts", window="fortnight")


def test_cli_profiles_a_parquet_folder_on_spark(table: pa.Table, tmp_path: Path) -> None:
    require_spark("the Spark suite")
    from vigil.cli import main

    folder = tmp_path / "events"
    folder.mkdir()
    pq.write_table(table.slice(0, 20_000), folder / "part-0.parquet")
    pq.write_table(table.slice(20_000), folder / "part-1.parquet")
    out = tmp_path / "events.vgp"
    assert (
        main(["profile", "--spark", "--spark-master", "local[2]", str(folder), "-o", str(out)]) == 0
    )
    prof = vigil.DatasetProfile.from_bytes(out.read_bytes())
    assert prof.n_rows == table.num_rows
    assert prof.columns["x"].mean == pytest.approx(vigil.profile(table).columns["x"].mean, rel=1e-9)  # type: ignore[union-attr]
    assert main(["profile", "--spark", str(tmp_path / "missing")]) == 2


def test_hourly_spark_profiles_upload_for_monitoring(
    spark: Any, table: pa.Table, tmp_path: Path
) -> None:
    """The scheduled batch job of docs/spark.md: profile on Spark, upload, read windows back."""
    from vigil import spark as vspark
    from vigil.client import Client

    frame = spark.createDataFrame(table.to_pandas()).repartition(2)
    hourly = vspark.profile(frame, window_column="ts", window="hour")
    with Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")) as client:
        client.create_model("events", features=["x", "y", "k", "city", "flag"], window=3600)
        result = client.log_profiles("events", hourly.values(), version="batch")
        assert result is not None
        assert result.n_profiles == len(hourly) == 48
        windows = client.data.windows("events", version="batch")
        assert [w.start for w in windows] == [k.window_start for k in hourly]
        assert sum(w.n_rows for w in windows) == table.num_rows
        merged = client.data.profile("events", version="batch")
    assert merged.columns["x"].mean == pytest.approx(
        vigil.profile(table).columns["x"].mean, rel=1e-9
    )  # type: ignore[union-attr]
    assert "ts" not in merged.columns  # not declared by the model
