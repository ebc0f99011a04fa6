"""Server-side SVG charts: what they draw, and that user text is escaped."""

from __future__ import annotations

import datetime as dt
import json
import re

from vigil.server.dashboard import charts, drift_charts

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _cells_of(svg: str, cls: str) -> list[tuple[float, float]]:
    """The (x, y) corners of the cells drawn by the paths of class `cls`."""
    out = []
    for d in re.findall(rf'<path class="{cls}" fill="[^"]+" d="([^"]+)"', svg):
        out += [(float(x), float(y)) for x, y in re.findall(r"M([\d.]+) ([\d.]+)", d)]
    return sorted(out)


def test_the_heatmap_draws_only_drifted_warm_and_missing_cells_and_carries_its_grid() -> None:
    starts = [T0 + dt.timedelta(days=d) for d in range(4)]
    cells = {
        starts[0]: {"a": [0.0, 0.0], "b": [0.5, 0.0]},
        starts[1]: {"a": [2.0, 1.0], "b": [0.01, 0.0]},
        starts[2]: {"a": [0.02, 0.0]},  # b not computed for this day
    }  # starts[3]: nothing computed yet
    svg = str(drift_charts.heatmap(["a", "b"], starts, cells, granularity="day"))
    left, top, w, h = 150.0, 34.0, 18.0, 14.0

    def at(i: int, j: int) -> tuple[float, float]:
        return (left + j * w, top + i * h)

    assert _cells_of(svg, "cells drifted") == [at(0, 1)]
    assert _cells_of(svg, "cells") == [at(1, 0)]  # 0.5: pale, above the visible floor
    assert _cells_of(svg, "cells nodata") == sorted([at(1, 2), at(0, 3), at(1, 3)])
    grid = re.search(r"data-features='([^']*)'", svg)
    assert grid is not None
    assert json.loads(grid.group(1).replace("&#34;", '"')) == ["a", "b"]
    assert "2026-03-04T00:00:00Z" in svg


def test_a_large_heatmap_stays_small() -> None:
    starts = [T0 + dt.timedelta(hours=h) for h in range(2160)]
    features = [f"f{i}" for i in range(100)]
    cells = {
        s: {f: [0.3 + (i % 10) / 10, float(i % 7 == 0)] for i, f in enumerate(features)}
        for s in starts
    }
    svg = str(drift_charts.heatmap(features, starts, cells, granularity="hour"))
    assert svg.count("<path") <= 2 * drift_charts.HEAT_LEVELS + 1
    assert len(svg) < 30 * 100 * 2160  # about 25 bytes a drawn cell, not an element each


def test_drifted_cells_are_red_and_others_stay_pale() -> None:
    pale = drift_charts._heat(0.99, False)
    red = drift_charts._heat(3.0, True)
    assert int(pale[1:3], 16) == 255  # no drift: a white-to-yellow tint
    assert int(red[1:3], 16) < 160
    assert int(red[3:5], 16) < 30


def test_user_text_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    svg = str(drift_charts.heatmap([hostile], [T0], {T0: {hostile: [2.0, 1.0]}}, granularity="day"))
    assert "<script>" not in svg
    chart = str(charts.line_chart([charts.Series(hostile, [(0, 1.0), (1, 2.0)])], y_label=hostile))
    assert "<script>" not in chart
    assert "&lt;script&gt;" in chart


def test_line_charts_break_at_missing_values_and_draw_the_band() -> None:
    svg = str(
        charts.line_chart(
            [charts.Series("m", [(0, 1.0), (1, 2.0), (2, None), (3, 1.5), (4, 1.0)])],
            band=charts.Band([(0, 0.5, 1.5), (4, 0.2, 2.2)], "5%-95%"),
        )
    )
    assert svg.count("<polyline") == 2  # the gap at x=2 splits the line in two
    assert svg.count('class="band"') == 1


def test_empty_inputs_say_so_instead_of_drawing() -> None:
    assert "No data" in str(charts.line_chart([charts.Series("m", [])]))
    assert "no data" in str(charts.sparkline([]))
    assert "No windows" in str(drift_charts.heatmap([], [], {}, granularity="day"))
    assert "two numeric" in str(charts.parallel_coordinates(["a"], [("r", {"a": 1.0})]))


def test_parallel_coordinates_draw_one_line_per_run_scaled_per_axis() -> None:
    svg = str(
        charts.parallel_coordinates(
            ["params.depth", "metrics.auc"],
            [
                ("r1", {"params.depth": 2.0, "metrics.auc": 0.7}),
                ("r2", {"params.depth": 8.0, "metrics.auc": 0.9}),
            ],
        )
    )
    lines = re.findall(r'<polyline[^>]*points="([^"]+)"', svg)
    assert len(lines) == 2
    (y1a, y1b), (y2a, y2b) = ([float(p.split(",")[1]) for p in line.split()] for line in lines)
    assert y1a == y1b  # each run at the bottom of both axes (its own minima)
    assert y2a == y2b  # and the other at the top
    assert y1a > y2a
