"""Daily windows in the model's time zone across daylight-saving changes: in Europe/Berlin,
2026-03-29 lasts 23 hours and 2026-10-25 lasts 25; rows at local 00:30 and 23:30 land in their
local day, for performance, fairness, KPIs and the stored profiles drift merges. A report asked
for "day" or "month" without a zone reads the model's zone; "day@UTC" keeps UTC."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sklearn import metrics as sk

from tests.periods.conftest import local_client
from vigil.cli import main
from vigil.client import Client
from vigil.errors import InvalidInputError
from vigil.windows import Grid

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = [
    dt.date(2026, 3, 28),
    dt.date(2026, 3, 29),  # 23 h: the clocks jump from 02:00 to 03:00
    dt.date(2026, 3, 30),
    dt.date(2026, 10, 24),
    dt.date(2026, 10, 25),  # 25 h: 02:00 to 03:00 happens twice
    dt.date(2026, 10, 26),
]
HOURS = {dt.date(2026, 3, 29): 23, dt.date(2026, 10, 25): 25}


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def berlin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A binary model on day@Europe/Berlin: per local day, rows at 00:30, 12:00 and 23:30
    (local), labelled; a KPI logged at the same instants."""
    folder = tmp_path_factory.mktemp("berlin")
    rng = np.random.default_rng(3)
    times, local_days = [], []
    for day in DAYS:
        for hour, minute in ((0, 30), (12, 0), (23, 30)):
            for _ in range(20):
                times.append(_local(day, hour, minute).astimezone(dt.UTC))
                local_days.append(day)
    n = len(times)
    x = rng.normal(0, 1, n)
    label = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(np.int64)
    score = 1 / (1 + np.exp(-(1.5 * x + rng.normal(0, 0.5, n))))
    data: dict[str, object] = {
        "id": [f"b{i}" for i in range(n)],
        "ts": times,
        "x": x,
        "sex": rng.choice(["f", "m"], n),
        "pred": (score >= 0.5).astype(np.int64),
        "score": score,
        "label": label,
        "local_day": local_days,
    }
    client = local_client(folder)
    client.create_model(
        "loans",
        features=["x", "sex"],
        predictions=["pred"],
        scores=["score"],
        segments=["sex"],
        id_column="id",
        timestamp_column="ts",
        window="day@Europe/Berlin",
    )
    client.log("loans", {k: data[k] for k in ("id", "ts", "x", "sex", "pred", "score")})
    client.log_labels("loans", data["id"], label)
    for i, when in enumerate(times):
        client.log_kpi("revenue", float(i), timestamp=when, model="loans", version="v1")
    client.close()
    return folder, data


def _client(berlin: tuple[Path, dict[str, object]]) -> Client:
    return local_client(berlin[0])


def _iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check_days(windows: list[dict[str, object]], data: dict[str, object]) -> None:
    """Each window is one local Berlin day, 23, 24 or 25 hours long, holding its 60 rows."""
    local_days = np.array(data["local_day"])
    assert len(windows) == len(DAYS)
    for w, day in zip(windows, DAYS, strict=True):
        start, end = _iso(str(w["start"])), _iso(str(w["end"]))
        assert start == _local(day, 0, 0).astimezone(dt.UTC)
        assert (end - start) == dt.timedelta(hours=HOURS.get(day, 24))
        assert w["n_predictions"] == int((local_days == day).sum()) == 60


def test_realized_per_berlin_day_across_dst(berlin: tuple[Path, dict[str, object]]) -> None:
    client = _client(berlin)
    report = client.performance.realized("loans", window="day@Europe/Berlin")
    client.close()
    assert report["window"] == "day@Europe/Berlin"
    _check_days(report["windows"], berlin[1])
    local_days = np.array(berlin[1]["local_day"])
    label, score = np.asarray(berlin[1]["label"]), np.asarray(berlin[1]["score"])
    for w, day in zip(report["windows"], DAYS, strict=True):
        rows = local_days == day
        assert w["metrics"]["roc_auc"] == pytest.approx(
            sk.roc_auc_score(label[rows], score[rows]), abs=1e-12
        )


def test_realized_and_estimated_without_zone_read_the_models_zone(
    berlin: tuple[Path, dict[str, object]],
) -> None:
    client = _client(berlin)
    realized = client.performance.realized("loans", window="day")
    first, last = _local(DAYS[0], 0, 0), _local(DAYS[3], 0, 0)
    estimated = client.performance.estimated(
        "loans", reference_start=first, reference_end=last, window="day"
    )
    months = client.performance.realized("loans", window="month")
    client.close()
    assert realized["window"] == estimated["window"] == "day@Europe/Berlin"
    _check_days(realized["windows"], berlin[1])
    _check_days(estimated["windows"], berlin[1])
    assert months["window"] == "month@Europe/Berlin"
    assert [(w["start"], w["n_predictions"]) for w in months["windows"]] == [
        ("2026-02-28T23:00:00Z", 180),
        ("2026-09-30T22:00:00Z", 180),
    ]


def test_fairness_day_without_zone_reads_the_models_zone(
    berlin: tuple[Path, dict[str, object]],
) -> None:
    client = _client(berlin)
    zoned = client.performance.fairness("loans", "sex", window="day")
    in_utc = client.performance.fairness("loans", "sex", window="day@UTC")
    client.close()
    assert zoned["window"] == "day@Europe/Berlin"
    _check_days(zoned["windows"], berlin[1])
    assert in_utc["window"] == "day"
    # In UTC, local 00:30 falls on the day before: the UTC days hold other rows.
    assert [w["n_predictions"] for w in in_utc["windows"]] != [60] * len(DAYS)


def test_kpi_per_berlin_day_and_month(berlin: tuple[Path, dict[str, object]]) -> None:
    client = _client(berlin)
    days = client.kpis.series("revenue", "loans", window="day")
    months = client.kpis.series("revenue", "loans", window="month")
    client.close()
    assert days.window == "day@Europe/Berlin"
    assert [p.count for p in days.points] == [60] * len(DAYS)
    assert [p.start for p in days.points] == [_local(d, 0, 0).astimezone(dt.UTC) for d in DAYS]
    assert months.window == "month@Europe/Berlin"
    assert [(p.start, p.count) for p in months.points] == [
        (dt.datetime(2026, 2, 28, 23, tzinfo=dt.UTC), 180),
        (dt.datetime(2026, 9, 30, 22, tzinfo=dt.UTC), 180),
    ]
    # The sum of each day's values is the sum of the values logged at that local day's rows.
    local_days = np.array(berlin[1]["local_day"])
    for point, day in zip(days.points, DAYS, strict=True):
        assert point.sum == pytest.approx(float(np.flatnonzero(local_days == day).sum()))


def test_stored_profiles_merge_per_berlin_day(berlin: tuple[Path, dict[str, object]]) -> None:
    """Drift compares merged stored windows: a local day's merge holds exactly its rows."""
    client = _client(berlin)
    grid = Grid.parse("day@Europe/Berlin")
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        start, end = grid.window_of(_local(day, 12, 0))
        profile = client.data.profile("loans", start=start, end=end)
        assert profile.n_rows == 60
    client.close()


def test_cli_kpi_per_berlin_day(
    berlin: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = berlin[0]
    store = [
        "--store",
        f"sqlite:///{folder / 'vigil.db'}",
        "--artifacts",
        str(folder / "artifacts"),
    ]
    assert main(["performance", "kpi", "revenue", "loans", "--window", "day", *store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [d.isoformat() for d in DAYS]
    assert {line.split()[2] for line in lines[1:]} == {"60"}
    # --start without an offset is local: Berlin's 2026-10-25 00:00 is 22:00 UTC the day before.
    code = main(
        ["performance", "kpi", "revenue", "loans", "--start", "2026-10-25", "--json", *store]
    )
    assert code == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert [p["count"] for p in points] == [60, 60]


def test_a_utc_monthly_monitor_on_a_berlin_model_is_told_the_models_zone(
    berlin: tuple[Path, dict[str, object]],
) -> None:
    client = _client(berlin)
    monitor = {
        "name": "monthly",
        "kind": "data_drift",
        "target": {"model": "loans"},
        "baseline": {
            "type": "period",
            "start": "2026-03-01T00:00:00Z",
            "end": "2026-04-01T00:00:00Z",
        },
    }
    with pytest.raises(
        InvalidInputError, match=r"use month@Europe/Berlin \(the model's time zone\)"
    ):
        client.monitors.save({**monitor, "window": "month"})
    client.monitors.save({**monitor, "window": "month@Europe/Berlin"})
    assert client.monitors.get("monthly").window == "month@Europe/Berlin"
    client.close()
