"""Charts you can read and point at (issue 18): both axes titled, legends and tick labels inside
the chart and apart, a tooltip with the exact value on every point and bar, time axes over the
data's own range. Parsed from the SVG the server draws."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from vigil.server.dashboard import charts
from vigil.server.dashboard.chart_parts import legend, text_width, x_tick_texts

SVG = "{http://www.w3.org/2000/svg}"
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()
DAY = 86_400.0


def _svg(markup: object) -> ET.Element:
    html = str(markup)
    assert html.startswith('<div class="chart-box">'), "a chart sits in its scrolling box"
    body = re.search(r"<svg.*</svg>", html, flags=re.S)
    assert body is not None
    return ET.fromstring(body.group(0).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def _texts(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [t for t in svg.iter(f"{SVG}text") if cls in (t.get("class") or "").split()]


def _box(text: ET.Element) -> tuple[float, float]:
    """The horizontal extent of a text element, from its anchor and estimated width."""
    x, w = float(text.get("x") or 0), text_width("".join(text.itertext()))
    anchor = text.get("text-anchor") or "start"
    start = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    return start, start + w


def _titles(svg: ET.Element, tag: str) -> list[str]:
    return [
        (el.findtext(f"{SVG}title") or "")
        for el in svg.iter(f"{SVG}{tag}")
        if el.find(f"{SVG}title") is not None
    ]


def test_a_line_chart_titles_its_axes_and_states_every_value() -> None:
    points = [(T0 + i * DAY, 0.8 + i / 1000) for i in range(10)]
    svg = _svg(charts.line_chart([charts.Series("accuracy", points)], x=charts.Axis(time=True)))
    (x_title,) = _texts(svg, "axis-label")[:1]
    titles = {"".join(t.itertext()) for t in _texts(svg, "axis-label")}
    assert titles == {"time (UTC)", "accuracy"}
    assert x_title.get("text-anchor") == "middle"
    tips = _titles(svg, "circle")
    assert len(tips) == 10
    assert "accuracy 0.803 at 2026-03-04 00:00 UTC" in tips


def test_time_ticks_span_the_data_and_stay_inside_and_apart() -> None:
    points = [(T0 + i * DAY, float(i)) for i in range(30)]
    width = 600
    svg = _svg(charts.line_chart([charts.Series("rows", points)], x=charts.Axis(time=True)))
    ticks = [t for t in _texts(svg, "tick") if not re.fullmatch(r"[-\d.,e+]+", t.text or "")]
    assert ticks[0].text == "01 Mar"  # the first window
    assert ticks[-1].text == "30 Mar"  # the last, not clipped: anchored at the edge
    boxes = [_box(t) for t in ticks]
    assert all(a >= 0 and b <= width for a, b in boxes), boxes
    assert all(boxes[i][1] < boxes[i + 1][0] for i in range(len(boxes) - 1)), boxes


def test_one_point_on_a_time_axis_spans_hours_not_years() -> None:
    """A run's metric logged once: its axis is the hours around it, not a decade."""
    svg = _svg(charts.line_chart([charts.Series("loss", [(T0, 0.5)])], x=charts.Axis(time=True)))
    labels = [t.text or "" for t in _texts(svg, "tick")]
    assert any("01 Mar" in label or "28 Feb" in label for label in labels), labels
    assert not any(re.search(r"20[0-9]{2}", label) for label in labels), labels
    assert _titles(svg, "circle") == ["loss 0.5 at 2026-03-01 00:00 UTC"]


def test_legends_of_many_long_series_do_not_overlap() -> None:
    series = [
        charts.Series(
            f"demographic parity difference of group {i}", [(T0, 0.1 * i), (T0 + DAY, 0.2)]
        )
        for i in range(6)
    ]
    svg = _svg(charts.line_chart(series, x=charts.Axis(time=True)))
    entries = _texts(svg, "legend")
    assert len(entries) == 6
    rows: dict[str, list[tuple[float, float]]] = {}
    for e in entries:
        rows.setdefault(e.get("y") or "", []).append(_box(e))
    assert len(rows) > 1  # they wrapped onto rows
    for boxes in rows.values():
        boxes.sort()
        assert all(b[1] <= 600 for b in boxes)
        assert all(boxes[i][1] < boxes[i + 1][0] for i in range(len(boxes) - 1)), boxes


def test_bars_and_timelines_state_their_values_and_title_their_axes() -> None:
    bars = [(T0 + i * DAY, float(100 + i)) for i in range(5)]
    svg = _svg(charts.bar_chart(bars, bar_width_seconds=DAY, y_label="rows per day"))
    assert {"".join(t.itertext()) for t in _texts(svg, "axis-label")} == {
        "window start (UTC)",
        "rows per day",
    }
    assert "2026-03-03 00:00 UTC: 102" in _titles(svg, "rect")
    start = dt.datetime.fromtimestamp(T0, dt.UTC)
    spans = [charts.Span("churn-data-drift", start, start + dt.timedelta(days=2), "#4 critical")]
    line = _svg(charts.timeline(spans))
    assert _titles(line, "rect") == ["#4 critical: 2026-03-01 00:00 UTC to 2026-03-03 00:00 UTC"]
    assert [t.text for t in _texts(line, "rowlabel")] == ["churn-data-drift"]


def test_parallel_coordinates_keep_every_axis_name_readable() -> None:
    axes = [f"params.histgradientboostingclassifier__param_{i}" for i in range(12)]
    lines = [(f"run {k}", {a: float(i * k) for i, a in enumerate(axes)}) for k in range(1, 3)]
    svg = _svg(charts.parallel_coordinates(axes, lines))
    width = float(svg.get("width") or 0)
    names = [t for t in _texts(svg, "tick") if "param_" in (t.text or "")]
    assert len(names) == 12
    assert len({t.text for t in names}) == 12  # names differ where the axes differ
    for row in ("12", "28"):
        boxes = sorted(_box(t) for t in names if t.get("y") == row)
        assert all(a >= 0 and b <= width for a, b in boxes)
        assert all(boxes[i][1] < boxes[i + 1][0] for i in range(len(boxes) - 1)), boxes
    assert any("param_3 3" in tip for tip in _titles(svg, "polyline"))


@given(
    st.lists(st.text(alphabet="abcdefghij 0123456789", min_size=1, max_size=30), max_size=12),
    st.integers(min_value=200, max_value=1200),
)
def test_legend_entries_never_overlap_nor_leave_the_chart(names: list[str], width: int) -> None:
    parts, _ = legend([("#2563eb", n) for n in names], 40, width - 12)
    svg = ET.fromstring(f'<svg xmlns="{SVG[1:-1]}">{"".join(parts)}</svg>')
    boxes: dict[str, list[tuple[float, float]]] = {}
    for t in svg.iter(f"{SVG}text"):
        boxes.setdefault(t.get("y") or "", []).append(_box(t))
    for row in boxes.values():
        row.sort()
        assert all(a >= 40 and b <= width - 12 + 1e-6 for a, b in row), row
        assert all(row[i][1] <= row[i + 1][0] for i in range(len(row) - 1)), row


@given(
    st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=15),
    st.integers(min_value=120, max_value=900),
)
def test_tick_labels_stay_inside_and_apart(positions: list[float], width: int) -> None:
    ticks = [(p * width, f"{p:.2f} Mar") for p in sorted(positions)]
    svg = ET.fromstring(
        f'<svg xmlns="{SVG[1:-1]}">{"".join(x_tick_texts(ticks, 0, width, 20))}</svg>'
    )
    boxes = [_box(t) for t in svg.iter(f"{SVG}text")]
    assert boxes  # the first label always fits
    assert all(a >= -1e-6 and b <= width + 1e-6 for a, b in boxes), boxes
    assert all(boxes[i][1] < boxes[i + 1][0] for i in range(len(boxes) - 1)), boxes
