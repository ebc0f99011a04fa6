"""Issue 19: the profile path's sketch-error study, run by `drift_false_alarms.py --sketch`.

`--sketch [--reps 300] [--large-reps 60]` runs the profile path's sketch-error study: KS's D
read from two KLL sketches is lifted by their rank error, and read as is it was taken for drift
in ~25% of no-drift pairs at en 5,000. Same pairs as --ks (plus 300 x 300, sketches just past
k = 200 values; and 40,000 and 1,000,000 rows a side, normal and lognormal, D only, with
lightweight columns). On the same D's: today's p-value, (a) p at D less the whole 99% bound e of
the estimating sketches, (b) an effective size shrunk by the sketch error read as noise
(1/en' = 1/en + 0.3 e^2), (c0) D less 0.25 e, (c1) D less 0.25 e up to 10,000 values a sketch,
the share growing by 0.10 per tenfold beyond, (c) ks.sketch_p_value (the share 0.25 at 10,000
values, 0.10 more or less per tenfold more or fewer, floored at 0). Reported: D's error over e, false alarms at
0.05 (Wilson 95%) beside the raw D's and the raw path's (ks_exact), power at a 3/sqrt(en) sd
shift, and the user-visible decision: the column flagged by drift's rule (p < 0.05 and the
effect size wasserstein_98 >= 0.05) with today's p and with (c), and by vigil.drift itself (as
installed), under no drift, the 3/sqrt(en) shift and a 0.1 sd shift.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from ks_study import KS_SHAPES, KS_SIZES, SHIFT, d_raw, wilson
from vigil.analysis.drift import drift
from vigil.analysis.drift.effect import numeric_effect_from_profiles
from vigil.analysis.drift.ks import (
    SKETCH_ERROR_SHARE,
    ks_exact,
    ks_from_profiles,
    p_value,
    sketch_allowance,
    sketch_p_value,
)
from vigil.analysis.drift.options import EFFECT_THRESHOLDS
from vigil.profile import profile
from vigil.schema import ColumnKind

SKETCH_SIZES = [*KS_SIZES[:4], (300, 300), *KS_SIZES[4:]]
"""The KS sizes and 300 x 300 (en 150: sketches just past k = 200 values, barely estimating)."""
LARGE_SIZES = [(40_000, 40_000), (1_000_000, 1_000_000)]
FIXED_SHIFT = 0.1
"""End-to-end power: a shift of 0.1 standard deviation, above the effect-size gate (0.05)."""
INFLATION_C = 0.3
"""(b): 1/en' = 1/en + c e^2. Each sketch's error read as Gaussian with sd e_i / 2.576 (its 99%
bound), two equal sketches: variance e^2 / 13.3 added to the CDF gap's, whose null variance at
the median is 1 / (4 en): 1/en' = 1/en + 4 e^2 / 13.3."""


def p_today(d: float, n: int, m: int, e: float, allowance: float) -> float:
    return p_value(d, n, m)


def p_conservative(d: float, n: int, m: int, e: float, allowance: float) -> float:
    """(a) p at D less the whole 99% bound of the estimating sketches."""
    return p_value(max(0.0, d - e), n, m)


def p_inflated(d: float, n: int, m: int, e: float, allowance: float) -> float:
    """(b) the effective size shrunk by the sketch error read as extra noise."""
    if e <= 0:
        return p_value(d, n, m)
    en = 1 / (1 / (n * m / (n + m)) + INFLATION_C * e * e)
    # p_value reads round(nm/(n+m)): pass n = m = 2 en'
    size = max(1, round(2 * en))
    return p_value(d, size, size)


def p_fixed_share(d: float, n: int, m: int, e: float, allowance: float) -> float:
    """(c0) p at D less a fixed SKETCH_ERROR_SHARE of the estimating sketches' bound."""
    return p_value(max(0.0, d - SKETCH_ERROR_SHARE * e), n, m)


def p_growing_share(d: float, n: int, m: int, e: float, allowance: float) -> float:
    """(c) ks.sketch_p_value: share 0.25 at 10,000 values, +-0.10 per tenfold, floored at 0."""
    return sketch_p_value(d, n, m, allowance)


def _share_up(count: int) -> float:
    """(c1)'s share: 0.25 up to 10,000 values, +0.10 per tenfold beyond (never below 0.25)."""
    return 0.25 + 0.10 * max(0.0, math.log10(count / 10_000))


def p_share_up(d: float, n: int, m: int, e: float, allowance: float) -> float:
    """(c1) the first committed rule (baedbf8): (c) without the smaller share below 10,000."""
    sizes = [c for c in (n, m) if c > 200]
    each = e / len(sizes) if sizes else 0.0
    return p_value(max(0.0, d - sum(_share_up(c) * each for c in sizes)), n, m)


SKETCH_P = {
    "today": p_today,
    "(a) D - e": p_conservative,
    f"(b) en' (c={INFLATION_C:g})": p_inflated,
    f"(c0) D - {SKETCH_ERROR_SHARE:g} e": p_fixed_share,
    "(c1) share >= 0.25": p_share_up,
    "(c) D - share(n) e": p_growing_share,
}


def _light_column(values: np.ndarray) -> Any:
    """What ks_from_profiles reads of a column, without the rest of a profile (the 1M-row sizes)."""
    from types import SimpleNamespace

    from vigil.profile.sketches import QuantileSketch

    return SimpleNamespace(
        finite_count=values.size,
        quantiles=QuantileSketch.of(values, "float32"),
        min=float(values.min()),
        max=float(values.max()),
    )


def _estimating(column: Any) -> float:
    """The 99% CDF error bound of a sketch in estimation mode (datasketches' own flag), else 0."""
    sketch = column.quantiles
    return sketch.pmf_error if sketch._sketch.is_estimation_mode() else 0.0


def sketch_statistics(shape: str, n: int, m: int, reps: int, seed: int) -> dict[str, np.ndarray]:
    """Per pair: D from the profiles and the raw D under no drift, under the 3/sqrt(en) shift
    and under FIXED_SHIFT; the estimating sketches' error e; the effect size (wasserstein_98)
    drift's gate reads; the raw path's p-value (ks_exact) under no drift; and, on profiles,
    the column's flag from vigil.drift itself (as the installed ks.py decides)."""
    gen = KS_SHAPES[shape]
    en = n * m / (n + m)
    light = n > 100_000
    out: dict[str, list[float]] = {}
    for rep in range(reps):
        rng = np.random.default_rng([seed, n, m, rep])
        x = gen(rng, n, 0.0)
        ys = {"h0": gen(rng, m, 0.0), "h1": gen(rng, m, SHIFT / math.sqrt(en))}
        if not light:
            ys["fixed"] = gen(rng, m, FIXED_SHIFT)
        if light:
            cx: Any = _light_column(x)
        else:
            px = profile({"v": x})
            cx = px.columns["v"]
        for h, y in ys.items():
            if light:
                cy: Any = _light_column(y)
            else:
                py = profile({"v": y})
                cy = py.columns["v"]
                out.setdefault(f"flag_{h}", []).append(
                    "v" in drift(px, py, columns=["v"]).drifted_columns
                )
                out.setdefault(f"effect_{h}", []).append(numeric_effect_from_profiles(cx, cy))
            out.setdefault(f"profile_{h}", []).append(ks_from_profiles(cx, cy).statistic)
            out.setdefault(f"raw_{h}", []).append(d_raw(x.astype(np.float32), y.astype(np.float32)))
            out.setdefault(f"e_{h}", []).append(_estimating(cx) + _estimating(cy))
            out.setdefault(f"a_{h}", []).append(sketch_allowance(cx) + sketch_allowance(cy))
        if not light:
            out.setdefault("raw_path_p_h0", []).append(
                ks_exact(np.sort(x), np.sort(ys["h0"])).p_value or 1.0
            )
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def sketch_study(reps: int, large_reps: int, max_en: float = math.inf) -> None:
    from common import Machine, load_average

    started = time.perf_counter()
    cpu_started = time.process_time()
    load_before = load_average()
    print(
        f"KS sketch-error study: {reps} pairs per cell ({large_reps} at 40,000 and 1,000,000 "
        f"rows, normal and lognormal, D only); {Machine.here().markdown()}; load {load_before:.2f}"
    )
    print()
    gate = EFFECT_THRESHOLDS[ColumnKind.NUMERIC]
    names = list(SKETCH_P)
    head = (
        "| shape | n x m (en) | e | D err / e: median, 99%, max | "
        + " | ".join(f"false alarms 0.05: {k}" for k in names)
        + " | raw D | raw path (ks_exact) | "
        + " | ".join(f"power 3/sqrt(en): {k}" for k in names)
        + " | raw D power | drift() flags H0: today, (c) | drift() power 3/sqrt(en): today, (c) "
        f"| drift() power {FIXED_SHIFT:g} sd: today, (c) | vigil.drift as installed: H0, "
        f"3/sqrt(en), {FIXED_SHIFT:g} sd |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    cells = [(shape, n, m, reps) for shape in KS_SHAPES for n, m in SKETCH_SIZES] + [
        (shape, n, m, large_reps) for shape in ("normal", "lognormal") for n, m in LARGE_SIZES
    ]
    for shape, n, m, r in cells:
        if r <= 0 or n * m / (n + m) > max_en:
            continue
        ds = sketch_statistics(shape, n, m, r, seed=23)
        en = n * m / (n + m)
        ps = {
            k: {
                h: np.array(
                    [
                        f(float(d), n, m, float(e), float(a))
                        for d, e, a in zip(
                            ds[f"profile_{h}"], ds[f"e_{h}"], ds[f"a_{h}"], strict=True
                        )
                    ]
                )
                for h in ("h0", "h1", "fixed")
                if f"profile_{h}" in ds
            }
            for k, f in SKETCH_P.items()
        }
        raw = {h: np.array([p_value(float(d), n, m) for d in ds[f"raw_{h}"]]) for h in ("h0", "h1")}
        err = (ds["profile_h0"] - ds["raw_h0"]) / np.where(ds["e_h0"] > 0, ds["e_h0"], np.nan)
        e = float(ds["e_h0"][0])
        err_cell = (
            "exact: " + f"{np.max(np.abs(ds['profile_h0'] - ds['raw_h0'])):.0e}"
            if e == 0
            else " / ".join(f"{v:.2f}" for v in np.nanquantile(err, [0.5, 0.99, 1.0]))
        )
        row = [
            shape,
            f"{n:,} x {m:,} ({en:,.0f})",
            f"{e:.3f}",
            err_cell,
            *(wilson(int(np.sum(ps[k]["h0"] < 0.05)), r) for k in names),
            wilson(int(np.sum(raw["h0"] < 0.05)), r),
            wilson(int(np.sum(ds["raw_path_p_h0"] < 0.05)), r) if "raw_path_p_h0" in ds else "-",
            *(f"{np.mean(ps[k]['h1'] < 0.05):.1%}" for k in names),
            f"{np.mean(raw['h1'] < 0.05):.1%}",
        ]
        if "effect_h0" in ds:
            first, chosen = names[0], "(c) D - share(n) e"
            for h in ("h0", "h1", "fixed"):
                ok = ds[f"effect_{h}"] >= gate
                row.append(
                    ", ".join(
                        wilson(int(np.sum((ps[k][h] < 0.05) & ok)), r) for k in (first, chosen)
                    )
                )
            row.append(", ".join(f"{np.mean(ds[f'flag_{h}']):.1%}" for h in ("h0", "h1", "fixed")))
        else:
            row += ["-"] * 4
        print("| " + " | ".join(row) + " |", flush=True)
    print()
    print(
        f"load average {load_before:.2f} before, {load_average():.2f} after; {os.cpu_count()} "
        f"CPUs; {time.perf_counter() - started:.0f} s wall, {time.process_time() - cpu_started:.0f} "
        "s CPU"
    )
