"""The demo prints a drift report for the production week: drift after the change, none before."""

from __future__ import annotations

from pathlib import Path

from vigil.demo import run_demo


def test_demo_shows_drift_after_the_change_and_none_before(tmp_path: Path) -> None:
    lines: list[str] = []
    run_demo(tmp_path, rows=8_000, seed=7, echo=lines.append)
    out = "\n".join(lines)
    after = out.index("== Drift report: production days 4-7")
    before = out.index("== Drift report: production days 1-3")
    assert after < before
    late, early = out[after:before], out[before:]
    assert "DATASET DRIFT" in late
    assert "Prediction drift: churn_score DRIFT" in late
    assert "income: missing values 2" in late
    assert "payment_method:" in late
    assert "crypto" in late
    assert "no dataset drift: 0 of 13 columns drifted" in early
