"""A sensitive attribute that is also a model input (issue 16 point 4): declared as a feature
and a segment, it is profiled once, stored with the rows once, watched by the drift monitors
by default (per month), and read by fairness."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from tests.periods.conftest import local_client
from vigil.api.specs import ModelSpec
from vigil.cli import main

MONTHS = [dt.datetime(2026, m, 1, tzinfo=dt.UTC) for m in (1, 2, 3)]


def _month(rng: np.random.Generator, start: dt.datetime, n: int, share_f: float) -> dict[str, Any]:
    x = rng.normal(0, 1, n)
    score = 1 / (1 + np.exp(-1.5 * x))
    return {
        "id": [f"{start:%m}-{i}" for i in range(n)],
        "ts": [start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 27 * 1440, n)],
        "income": x,
        "sex": rng.choice(["f", "m"], n, p=[share_f, 1 - share_f]),
        "pred": (score >= 0.5).astype(np.int64),
        "score": score,
    }


def test_a_feature_can_be_a_segment_but_other_overlaps_are_refused() -> None:
    spec = ModelSpec(name="loans", features=["income", "sex"], segments=["sex"], scores=["s"])
    assert spec.profiled_columns == ["income", "sex", "s"]
    assert spec.row_columns == ["s", "sex"]
    for roles in (
        {"features": ["sex"], "predictions": ["sex"]},
        {"segments": ["sex"], "scores": ["sex"]},
        {"features": ["sex"], "target_column": "sex"},
        {"segments": ["sex"], "id_column": "sex"},
    ):
        with pytest.raises(ValidationError, match="'sex' is both a .* except that a feature"):
            ModelSpec(name="loans", **roles)


def test_feature_and_segment_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = local_client(tmp_path)
    client.create_model(
        "loans",
        features=["income", "sex"],
        predictions=["pred"],
        scores=["score"],
        segments=["sex"],
        id_column="id",
        timestamp_column="ts",
        window="day",
    )
    rng = np.random.default_rng(5)
    shares = (0.5, 0.5, 0.9)  # March's applicants are mostly women: `sex` drifts
    months = [_month(rng, start, 600, share) for start, share in zip(MONTHS, shares, strict=True)]
    for data in months:
        client.log("loans", data)
    # Profiled once, stored with the rows once.
    profile = client.data.profile("loans", start=MONTHS[0], end=MONTHS[1])
    assert list(profile.columns).count("sex") == 1
    assert profile.n_rows == 600
    rows = client.data.predictions("loans", start=MONTHS[0], end=MONTHS[1])
    assert rows.column_names.count("sex") == 1
    assert rows.num_rows == 600
    assert sorted(rows["sex"].to_pylist()) == sorted(months[0]["sex"])
    assert sorted(client.data.segments("loans")) == ["sex=f", "sex=m"]
    # A monthly drift monitor with default columns watches it.
    client.monitors.save(
        {
            "name": "inputs",
            "kind": "data_drift",
            "window": "month",
            "target": {"model": "loans"},
            "baseline": {
                "type": "period",
                "start": MONTHS[0].isoformat(),
                "end": MONTHS[1].isoformat(),
            },
        }
    )
    run = client.monitors.run(MONTHS[1], dt.datetime(2026, 4, 1, tzinfo=dt.UTC), deliver=False)
    by_month = {r.window_start: r for r in run.results if r.monitor == "inputs"}
    assert "sex" not in by_month[MONTHS[1]].message.split("(")[-1]
    assert by_month[MONTHS[2]].breached
    assert "sex" in by_month[MONTHS[2]].message
    assert "of 2 columns" in by_month[MONTHS[2]].message  # income and sex, each once
    # `vigil performance drift` says the same per month, from the stored profiles.
    client.close()
    store = [
        "--store",
        f"sqlite:///{tmp_path / 'vigil.db'}",
        "--artifacts",
        str(tmp_path / "artifacts"),
    ]
    code = main(
        [
            "performance",
            "drift",
            "loans",
            "--baseline-start",
            "2026-01-01",
            "--baseline-end",
            "2026-02-01",
            "--window",
            "month",
            "--start",
            "2026-02-01",
            "--end",
            "2026-04-01",
            "--json",
            *store,
        ]
    )
    assert code == 0
    windows = json.loads(capsys.readouterr().out)["windows"]
    assert [w["window"] for w in windows] == ["2026-02", "2026-03"]
    assert [w["n_rows"] for w in windows] == [600, 600]
    assert sorted(windows[1]["columns"]) == ["income", "sex"]
    assert "sex" in windows[1]["drifted_columns"]
    assert "sex" not in windows[0]["drifted_columns"]
    client = local_client(tmp_path)
    # Fairness reads it, per month.
    fairness = client.performance.fairness("loans", "sex", window="month")
    march = fairness["windows"][-1]
    sex = np.asarray(months[2]["sex"])
    pred = np.asarray(months[2]["pred"])
    for group in ("f", "m"):
        assert march["groups"][group]["n"] == int((sex == group).sum())
        assert march["groups"][group]["selection_rate"] == pytest.approx(
            float(pred[sex == group].mean())
        )
    client.close()
