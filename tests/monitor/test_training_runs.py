"""Training kinds on tracking runs: each finished run of an experiment against the run that
finished before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

import vigil
from tests.monitor.conftest import HOUR, T0, client_for
from vigil import monitor as monitors
from vigil.errors import NotFoundError
from vigil.monitor import Monitor
from vigil.monitor.runs import compare_runs
from vigil.store.core import Store
from vigil.store.tracking_tables import Run


def _run(
    store: Store, hour: int, auc: float, shift: float, seed: int, *, fail: bool = False
) -> str:
    rng = np.random.default_rng(seed)
    try:
        with vigil.start_run(experiment="churn", store=store, capture=False) as run:
            run.log_metrics({"val_auc": auc, "importance.x": 0.6, "importance.y": 0.4})
            run.log_dataset({"x": rng.normal(shift, 1.0, 2000)}, name="train")
            if fail:
                raise RuntimeError("training crashed")
    except RuntimeError:
        pass
    end_ms = int((T0 + hour * HOUR).timestamp() * 1000) + 30 * 60 * 1000
    with store.session() as session:
        session.execute(update(Run).where(Run.id == run.id).values(end_ms=end_ms))
        session.commit()
    return run.id


def test_each_finished_run_is_judged_against_the_run_before(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    client.close()
    first = _run(store, 0, 0.90, 0.0, seed=1)
    _run(store, 1, 0.50, 0.0, seed=2, fail=True)  # failed runs are not judged nor compared with
    second = _run(store, 2, 0.86, 2.0, seed=3)
    third = _run(store, 3, 0.91, 2.0, seed=4)
    quality = {"kind": "training_quality", "options": {"experiment": "churn"}}
    data = {"kind": "training_data_drift", "options": {"experiment": "churn"}}
    for name, spec in (("quality", quality), ("data", data)):
        monitors.save_monitor(
            store, Monitor.model_validate({"name": name, "target": {"model": "m"}, **spec})
        )
    results = monitors.backfill(store, T0, T0 + 4 * HOUR, now=T0 + 4 * HOUR)
    by = {(r.monitor, int((r.window_start - T0) / HOUR)): r for r in results}
    assert "no earlier run" in by[("quality", 0)].message
    assert by[("quality", 1)].value is None
    assert by[("quality", 2)].value == pytest.approx((0.90 - 0.86) / 0.90)
    assert by[("quality", 2)].breached
    assert by[("quality", 3)].value == pytest.approx((0.86 - 0.91) / 0.86)
    assert by[("data", 2)].value == 1.0  # x moved by two standard deviations
    assert by[("data", 3)].value == 0.0
    comparison = compare_runs(store, third)
    assert comparison.reference_run_id == second
    assert comparison.importance is not None
    assert comparison.importance.source == "run_metrics"
    assert compare_runs(store, second).reference_run_id == first
    with store.session() as session:
        alerts = {a.monitor: a for a in monitors.list_alerts(session)}
    assert alerts["quality"].state == "resolved"
    assert alerts["quality"].details["run_id"] == second
    assert alerts["data"].state == "resolved"
    with pytest.raises(NotFoundError):
        compare_runs(store, "0" * 32)


def test_runs_are_only_compared_with_the_previous_run() -> None:
    with pytest.raises(ValueError, match="compared with the previous run"):
        Monitor.model_validate(
            {
                "name": "q",
                "kind": "training_quality",
                "target": {"model": "m"},
                "options": {"experiment": "churn", "against": "production"},
            }
        )
