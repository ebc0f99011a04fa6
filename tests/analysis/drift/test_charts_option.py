"""`drift(..., charts=False)` leaves out the charts' shares and nothing else (monitors call it so)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import vigil
from tests.analysis.drift._data import null_table, with_drift
from vigil.analysis.drift import drift


def test_without_charts_every_figure_is_the_same_and_no_distribution_is_made(
    tmp_path: Path,
) -> None:
    reference = vigil.profile(null_table(3_000, 1))
    current = vigil.profile(with_drift(null_table(500, 2), "mean", 2))
    full = drift(reference, current)
    bare = drift(reference, current, charts=False)
    assert full.columns.keys() == bare.columns.keys()
    assert any(c.distribution is not None for c in full.columns.values())
    for name, column in full.columns.items():
        assert bare.columns[name].distribution is None
        assert dataclasses.replace(column, distribution=None) == bare.columns[name], name
    assert bare.drifted_columns == full.drifted_columns
    full.to_html(tmp_path / "full.html")
    bare.to_html(tmp_path / "bare.html")  # nothing to draw, and no error
    assert 'aria-label="distribution"' in (tmp_path / "full.html").read_text()
    assert 'aria-label="distribution"' not in (tmp_path / "bare.html").read_text()
