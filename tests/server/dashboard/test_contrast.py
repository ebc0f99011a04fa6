"""WCAG AA contrast of the dashboard's colours, computed from vigil.css and the heatmap's own
colours: text >= 4.5:1 against its background, graphics (heatmap cells, swatches, focus outline)
>= 3:1; and drifted is never told from not drifted by colour alone."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from vigil.server.dashboard import drift_charts

CSS = (
    Path(__file__).resolve().parents[3] / "src/vigil/server/dashboard/static/vigil.css"
).read_text()
TEXT, GRAPHIC = 4.5, 3.0


def _rules() -> dict[str, dict[str, str]]:
    """Selector -> declarations of vigil.css (outside media queries; variables resolved)."""
    flat = re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    flat = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", flat)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", flat):
        decls = dict(
            (k.strip(), v.strip())
            for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d)
        )
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(decls)
    variables = {k: v for k, v in rules.get(":root", {}).items() if k.startswith("--")}
    for decls in rules.values():
        for k, v in decls.items():
            decls[k] = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], v)
    return rules


RULES = _rules()


def colour(selector: str, prop: str) -> str:
    value = RULES[selector][prop]
    found = re.search(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", value)
    assert found is not None, f"{selector} {{ {prop}: {value} }} is not a hex colour"
    return found.group(0)


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


CARD = "#ffffff"
PAGE = colour("body", "background")
HEADER = colour("header.top", "background")


@pytest.mark.parametrize(
    ("what", "fg", "bg"),
    [
        (
            "drifted badge",
            colour(".badge.critical", "color"),
            colour(".badge.critical", "background"),
        ),
        ("no-drift badge", colour(".badge.ok", "color"), colour(".badge.ok", "background")),
        (
            "warning badge",
            colour(".badge.warning", "color"),
            colour(".badge.warning", "background"),
        ),
        ("open alert badge", colour(".badge.open", "color"), colour(".badge.open", "background")),
        (
            "resolved badge",
            colour(".badge.resolved", "color"),
            colour(".badge.resolved", "background"),
        ),
        ("muted text on a card", colour(".muted", "color"), CARD),
        ("muted text on the page", colour(".muted", "color"), PAGE),
        ("links", colour("a", "color"), CARD),
        ("chart labels", colour("svg text", "fill"), CARD),
        ("chart legends", colour("svg text.legend", "fill"), CARD),
        ("navigation", colour("header.top nav a", "color"), HEADER),
        ("signed-in user", colour("header.top .who", "color"), HEADER),
        ("flash", colour(".flash", "color"), colour(".flash", "background")),
        ("error flash", colour(".flash.error", "color"), colour(".flash.error", "background")),
        ("buttons", colour("button", "color"), colour("button", "background")),
    ],
)
def test_text_meets_aa(what: str, fg: str, bg: str) -> None:
    assert contrast(fg, bg) >= TEXT, f"{what}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_the_focus_outline_stands_out() -> None:
    outline = colour(":focus-visible", "outline")
    for bg in (CARD, PAGE):
        assert contrast(outline, bg) >= GRAPHIC


def _heatmap() -> str:
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    starts = [t0 + dt.timedelta(days=d) for d in range(4)]
    cells = {
        starts[0]: {"a": [1.0, 1.0], "b": [0.9, 0.0]},
        starts[1]: {"a": [2.0, 1.0], "b": [0.5, 0.0]},
        starts[2]: {"a": [3.5, 1.0], "b": [0.3, 0.0]},
    }
    return str(drift_charts.heatmap(["a", "b"], starts, cells, granularity="day"))


def test_drifted_cells_stand_out_from_the_grid() -> None:
    """Every drifted cell's colour is >= 3:1 against the grid's background (white): drifted
    cells are seen at a glance, the lightest of them too (the legend draws the same cells)."""
    svg = _heatmap()
    background = re.search(r'class="grid-bg"[^>]*fill="(#[0-9a-f]{6})"', svg)
    assert background is not None
    fills = re.findall(r'<path class="cells drifted" fill="(#[0-9a-f]{6})"', svg)
    assert fills
    for fill in fills:
        assert contrast(fill, background.group(1)) >= GRAPHIC, fill


def test_drifted_cells_carry_a_mark_besides_their_colour() -> None:
    """Drifted and not drifted are told apart without colour: drifted cells carry a pattern or
    a mark of their own (for colour-blind readers and grey-scale prints)."""
    svg = _heatmap()
    marked = re.search(
        r'class="[^"]*drifted-mark[^"]*"|<path class="cells drifted"[^>]*fill="url\(#', svg
    )
    assert marked is not None, "drifted cells differ from the others by colour only"
