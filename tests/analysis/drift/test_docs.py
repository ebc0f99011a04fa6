"""docs/drift.md documents every registered method and every default."""

from __future__ import annotations

from pathlib import Path

from vigil.analysis.drift import DRIFT_SHARE, EFFECT_THRESHOLDS, EXACT_MAX_ROWS, METHODS
from vigil.analysis.drift.options import DEFAULT_METHODS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "drift.md").read_text()


def test_every_method_is_documented_with_its_tolerance() -> None:
    for method in METHODS.values():
        row = next(
            (line for line in DOC.splitlines() if line.startswith(f"| `{method.name}`")), None
        )
        assert row is not None, method.name
        documented = "exact |" if method.tolerance < 1e-6 else f"{method.tolerance:g}"
        assert documented in row.split("|")[-2] + "|", method.name


def test_defaults_are_documented() -> None:
    for name in DEFAULT_METHODS.values():
        assert f"(`{name}`)" in DOC
    for threshold in EFFECT_THRESHOLDS.values():
        assert f"{threshold:g}:" in DOC
    assert f"{EXACT_MAX_ROWS:,} rows" in DOC
    assert f"**{DRIFT_SHARE:g}**" in DOC
