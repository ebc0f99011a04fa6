"""KPIs per model version: series per window, two versions compared (checked against SciPy),
and the kpi_change monitor kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from tests.monitor.conftest import T0, client_for
from vigil import kpi
from vigil import monitor as monitors
from vigil.client import Client
from vigil.errors import InvalidInputError
from vigil.monitor import Monitor
from vigil.registry.service import Registry
from vigil.store.core import Store
from vigil.windows import Grid

DAY = dt.timedelta(days=1)


def _log_days(
    client: Client, days: range, version: str, mean: float, *, per_day: int = 8, seed: int = 0
) -> dict[int, list[float]]:
    rng = np.random.default_rng(seed)
    logged: dict[int, list[float]] = {}
    for day in days:
        values = rng.normal(mean, 1.0, per_day).round(3).tolist()
        for i, value in enumerate(values):
            at = T0 + day * DAY + dt.timedelta(hours=2 * i + 1)
            client.log_kpi("revenue", value, timestamp=at, model="m", version=version)
        logged[day] = values
    return logged


def test_series_per_version_and_window_equal_numpy(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    a = _log_days(client, range(3), "1", 10.0, seed=1)
    b = _log_days(client, range(1, 3), "2", 12.0, seed=2)
    client.log_kpi("other", 1.0, timestamp=T0, model="m", version="1")
    client.close()
    with store.session() as session:
        result = kpi.series(session, "revenue", "m", window="day")
        one = kpi.series(session, "revenue", "m", version="2", window="week", start=T0 + DAY)
    assert [(p.version, p.start) for p in result.points] == [
        ("1", T0),
        ("1", T0 + DAY),
        ("1", T0 + 2 * DAY),
        ("2", T0 + DAY),
        ("2", T0 + 2 * DAY),
    ]
    first = result.points[0]
    assert first.end == T0 + DAY
    assert first.count == 8
    assert first.mean == pytest.approx(np.mean(a[0]))
    assert first.sum == pytest.approx(np.sum(a[0]))
    assert first.std == pytest.approx(np.std(a[0], ddof=1))
    assert (first.min, first.max) == (min(a[0]), max(a[0]))
    (week,) = one.points  # T0 is a Monday: both days fall in its week
    assert week.start == T0
    assert week.count == 16
    assert week.mean == pytest.approx(np.mean(b[1] + b[2]))
    with store.session() as session, pytest.raises(InvalidInputError, match="'fortnight'"):
        kpi.series(session, "revenue", "m", window="fortnight")


@pytest.mark.parametrize(
    "window", ["month", "quarter", "day@America/New_York", "6h", "week", "day@Africa/Monrovia"]
)
def test_series_on_calendar_windows_equal_numpy(store: Store, tmp_path: Path, window: str) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    rng = np.random.default_rng(4)
    logged: list[tuple[dt.datetime, float]] = []
    for hours in sorted(rng.integers(0, 24 * 120, 150).tolist()):
        at = T0 - 50 * DAY + dt.timedelta(hours=hours, minutes=17)
        value = round(float(rng.normal(3.0, 1.0)), 3)
        client.log_kpi("revenue", value, timestamp=at, model="m", version="1")
        logged.append((at, value))
    client.close()
    grid = Grid.parse(window)
    with store.session() as session:
        result = kpi.series(session, "revenue", "m", window=window)
    assert result.window == grid.to_str()
    expected: dict[dt.datetime, list[float]] = {}
    for at, value in logged:
        expected.setdefault(grid.floor(at), []).append(value)
    assert [p.start for p in result.points] == sorted(expected)
    for point in result.points:
        values = expected[point.start]
        assert point.end == grid.next(point.start)
        assert point.count == len(values)
        assert point.mean == pytest.approx(np.mean(values))
        assert (point.min, point.max) == (min(values), max(values))
        if len(values) > 1:
            assert point.std == pytest.approx(np.std(values, ddof=1))


def test_two_versions_compared_over_a_period_equal_scipys_welch_test(
    store: Store, tmp_path: Path
) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    a = _log_days(client, range(4), "1", 10.0, per_day=6, seed=3)
    b = _log_days(client, range(4), "2", 10.8, per_day=6, seed=4)
    client.close()
    with store.session() as session:
        result = kpi.compare(session, "revenue", "m", "1", "2", start=T0 + DAY, end=T0 + 3 * DAY)
    xa = a[1] + a[2]
    xb = b[1] + b[2]
    expected = stats.ttest_ind(xb, xa, equal_var=False)
    assert result.a.count == result.b.count == 12
    assert result.difference == pytest.approx(np.mean(xb) - np.mean(xa))
    assert result.relative_change == pytest.approx((np.mean(xb) - np.mean(xa)) / np.mean(xa))
    assert result.t_statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.degrees_of_freedom == pytest.approx(expected.df, rel=1e-10)
    with store.session() as session, pytest.raises(InvalidInputError, match="different"):
        kpi.compare(session, "revenue", "m", "1", "1")


@pytest.mark.parametrize("seed", range(5))
def test_welch_on_unequal_sizes_and_variances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, 7)
    b = rng.normal(0.5, 3, 23)
    result = kpi.welch_t_test(list(a), list(b))
    expected = stats.ttest_ind(b, a, equal_var=False)
    assert result is not None
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert kpi.welch_t_test([1.0], [1.0, 2.0]) is None
    assert kpi.welch_t_test([1.0, 1.0], [2.0, 2.0]) is None


def _kpi_monitor(**extra: object) -> Monitor:
    return Monitor.model_validate(
        {
            "name": "revenue",
            "kind": "kpi_change",
            "target": {"model": "m"},
            "window": "day",
            "options": {"kpi": "revenue"},
            **extra,
        }
    )


def test_kpi_change_learns_its_bounds_from_the_trailing_windows(
    store: Store, tmp_path: Path
) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    logged = _log_days(client, range(10), "1", 100.0, seed=5)
    _log_days(client, range(10, 11), "1", 90.0, seed=6)  # far below the days' variation
    client.close()
    monitors.save_monitor(store, _kpi_monitor(threshold={"type": "learned", "k": 6}))
    results = monitors.backfill(store, T0, T0 + 11 * DAY, now=T0 + 11 * DAY)
    by_day = {(r.window_start - T0) // DAY: r for r in results}
    means = [float(np.mean(logged[d])) for d in range(3, 10)]
    assert by_day[9].value == pytest.approx(np.mean(logged[9]))
    assert by_day[10].lower == pytest.approx(np.mean(means) - 6 * np.std(means, ddof=1))
    assert [d for d, r in by_day.items() if r.breached] == [10]
    assert by_day[1].upper is None  # too few earlier windows to learn from
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.kind == "kpi_change"


def test_kpi_change_from_the_previous_window_for_an_alias(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"], registry_model="churn")
    _log_days(client, range(3), "1", 50.0, per_day=4, seed=7)
    _log_days(client, range(3), "v2", 50.0, per_day=4, seed=8)
    _log_days(client, range(3, 4), "v2", 30.0, per_day=4, seed=9)
    client.close()
    registry = Registry(store, actor="ana")
    registry.register("churn", __file__)
    registry.register("churn", __file__)
    registry.set_alias("churn", "production", 2)
    monitor = _kpi_monitor(
        target={"model": "m", "alias": "production"},
        options={"kpi": "revenue", "aggregate": "sum", "compare": "previous"},
        threshold={"type": "static", "lower": -0.2},
    )
    monitors.save_monitor(store, monitor)
    results = monitors.backfill(store, T0, T0 + 4 * DAY, now=T0 + 4 * DAY)
    assert results[0].value is None  # no window before
    assert [r.breached for r in results] == [False, False, False, True]
    assert results[3].value == pytest.approx(-0.4, abs=0.05)
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.target == "m@production"
    assert alert.details["previous"] > alert.details["current"]


def test_kpi_change_needs_a_kpi_name() -> None:
    with pytest.raises(ValueError, match="kpi"):
        Monitor.model_validate({"name": "k", "kind": "kpi_change", "target": {"model": "m"}})


def test_kpi_and_comparison_routes_answer_4xx_naming_the_bad_value(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from tests.server.conftest import auth, make_tokens
    from vigil.api.specs import Scope
    from vigil.config import Settings
    from vigil.server import create_app

    tokens = make_tokens(sqlite_store)
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x"])
    _log_days(client, range(2), "1", 5.0, per_day=3)
    client.close()
    Registry(sqlite_store, actor="ana").register("churn", __file__, metrics={"auc": 0.7})
    app = create_app(
        Settings(store_url="sqlite://", artifacts_url="unused", monitor_scheduler=False),
        store=sqlite_store,
    )
    read = auth(tokens[Scope.READ])
    with TestClient(app) as api:
        ok = api.get("/api/v1/kpis/series?name=revenue&model=m&window=day", headers=read)
        assert ok.status_code == 200
        assert [p["count"] for p in ok.json()["points"]] == [3, 3]
        month = api.get("/api/v1/kpis/series?name=revenue&model=m&window=month", headers=read)
        assert month.status_code == 200
        assert [p["count"] for p in month.json()["points"]] == [6]
        bad = api.get("/api/v1/kpis/series?name=revenue&model=m&window=fortnight", headers=read)
        assert bad.status_code == 422
        assert "'fortnight'" in bad.json()["message"]
        missing = api.get("/api/v1/kpis/series?name=revenue&model=nope", headers=read)
        assert missing.status_code == 404
        same = api.get("/api/v1/kpis/compare?name=revenue&model=m&a=1&b=1", headers=read)
        assert same.status_code == 422
        assert "both are '1'" in same.json()["message"]
        assert api.get("/api/v1/kpis/series?name=revenue&model=m").status_code == 401
        path = "/api/v1/registry/models/churn/versions/1/comparison"
        first = api.get(path, headers=read).json()
        assert first["reference_version"] is None
        assert first["missing"] == ["no earlier version"]
        alias = api.get(f"{path}?against=latest", headers=read)
        assert alias.status_code == 422
        assert "latest" in alias.json()["message"]
        assert api.get(path.replace("/1/", "/5/"), headers=read).status_code == 404


def test_large_values_with_a_small_spread_keep_their_variance(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x"])
    values = (1e9 + np.random.default_rng(1).normal(0.0, 0.01, 20)).tolist()
    for i, value in enumerate(values):
        client.log_kpi("revenue", value, timestamp=T0 + i * dt.timedelta(minutes=1), model="m")
    client.close()
    with sqlite_store.session() as session:
        (point,) = kpi.series(session, "revenue", "m", window="hour").points
    assert point.std == pytest.approx(np.std(values, ddof=1), rel=1e-6)
    assert point.mean == pytest.approx(np.mean(values), rel=1e-15)
