"""The demo generates its data, profiles it and shows the drift it planted."""

from __future__ import annotations

from pathlib import Path

import vigil
from vigil.demo import run_demo
from vigil.demo.data import DRIFT_DAY, production_week, training_set


def test_demo_runs_and_shows_the_planted_changes(tmp_path: Path) -> None:
    lines: list[str] = []
    # The demo's own size: at ~1,000 rows a day the drift effect-size gate sits near the sampling
    # noise, and the randomised KLL compaction can flip a no-drift day (see docs/drift.md).
    run_demo(tmp_path, rows=20_000, seed=7, echo=lines.append)
    out = "\n".join(lines)
    assert "Training data profile" in out
    assert "crypto" in out  # the new payment method appears after drift starts
    # The drift report of the production week: drift after the change, none before.
    after, before = out.split("(after the change)")[1].split("(before the change)")
    assert "DATASET DRIFT" in after
    assert "Prediction drift: churn_score DRIFT" in after
    assert "income: missing values 2" in after
    assert "payment_method:" in after
    assert "crypto" in after
    assert "no dataset drift: 0 of 13 columns drifted" in before
    assert "validation passed" in out  # the first production day
    assert "validation FAILED" in out  # the last one
    validation = out.split("== Data checks suggested")[1].split("== Monitors")[0]
    assert "missing_share_at_most" in validation.split("Sun 08 Nov")[-1]
    assert (tmp_path / "checks.yaml").exists()
    assert "720 hourly windows over 30 days; the week: 168 hourly windows" in out
    assert "as tracked runs" in out
    assert "set @production" in out
    assert "models:/churn@production loads back" in out
    monitors = out.split("== Monitors on the logged week")[1]
    assert "churn-data-drift" in monitors
    assert "churn-missing-values" in monitors
    assert "Mon 02 Nov" not in monitors  # nothing fires before the drift day
    assert (tmp_path / "store" / "vigil.db").exists()
    assert (tmp_path / "training.vgp").exists()
    assert len(list(tmp_path.glob("production-*.vgp"))) == 7


def test_generated_data_is_deterministic_and_drifts_after_the_drift_day() -> None:
    assert training_set(500, 3).equals(training_set(500, 3))
    days = production_week(5_000, seed=3)
    before = vigil.profile(days[DRIFT_DAY - 1][1]).columns["monthly_charges"]
    after = vigil.profile(days[-1][1]).columns["monthly_charges"]
    assert after.mean > before.mean * 1.1  # type: ignore[union-attr]
