"""The full statistical-quality protocol of issue 3 for `vigil.drift` defaults.

No drift: two samples of one distribution, 25 columns of mixed kinds (tests/analysis/drift/
_data.py), 210 repetitions per size: a pool of 21 independent samples, every pair compared once
(each repetition is a valid no-drift comparison; the pool keeps 1M rows affordable). Reported:
the share of columns flagged (defaults, Benjamini-Hochberg across columns) and, for reference,
without the correction. Profile path at 1k, 10k, 100k and 1M rows; exact path (raw data, the
default up to 100k rows) at 1k, 10k and 100k.

Real drift at 100k and 1M rows: mean shift of 0.1 std, variance x1.3, 10% of one category's mass
moved to another, on 5 seeds each: the share detected.

    python benchmarks/drift_false_alarms.py [--sizes 1000 10000 100000 1000000] [--pool 21]

Prints a Markdown table (recorded in docs/drift.md).

`--ks [--reps 1000]` runs instead the KS p-value study (issue 19: the exact p-value was half of a
monitor tick). One numeric column, no drift: a reference of n and a current of m rows drawn from
one distribution (normal; lognormal, the same draws exponentiated, so its raw D is the normal's
and only its sketches differ; Poisson(4) with its ties), sizes giving effective sizes
en = nm/(n+m) from 20 to 5,000, `--reps` independent pairs each. D is read both from the column
profiles (`ks_from_profiles`, the monitors' path) and from the raw samples, and each D is turned
into a p-value by (a) kstwo.sf(d, round(en)) as drift did until now (the limiting law past en
10,000), (b) Stephens' form kolmogorov(d (sqrt(en) + 0.12 + 0.11/sqrt(en))), (c) `p_value` (Vrbik's
correction from round(en) = 25 on, kstwo.sf below). Reported: false alarms at 0.05 and 0.01 with
Wilson 95% intervals, the decisions that differ from (a)'s on the same D (paired), the largest
|p - p(a)|, the power against a shift of 3/sqrt(en) standard deviations (Poisson: its mean
moved by that many of its standard deviations), and the time per call of each, measured side by
side in one run (and kstwo.sf over 50 features in one vectorised call).

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

import argparse
import itertools
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.analysis.drift._data import DRIFTED_COLUMN, null_table, with_drift

from vigil.analysis.drift import DriftReport, drift
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

COLUMNS = 25


def _uncorrected(report: DriftReport) -> int:
    flagged = 0
    for c in report.columns.values():
        if c.statistic_type == "p_value":
            gate = c.effect_threshold is None or c.effect_size >= c.effect_threshold
            flagged += c.p_value is not None and c.p_value < c.threshold and gate
        else:
            flagged += c.drifted
    return flagged


def no_drift(n: int, pool: int, exact: bool, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    samples: list[Any] = [null_table(n, seed + k) for k in range(pool)]
    if not exact:
        samples = [profile(s) for s in samples]
    flagged = uncorrected = reps = 0
    per_column: dict[str, int] = {}
    for i, j in itertools.combinations(range(pool), 2):
        report = drift(samples[i], samples[j], exact=True if exact else None)
        reps += 1
        flagged += len(report.drifted_columns)
        uncorrected += _uncorrected(report)
        for name in report.drifted_columns:
            per_column[name] = per_column.get(name, 0) + 1
    return {
        "rows": n,
        "path": "exact" if exact else "profile",
        "repetitions": reps,
        "share_flagged": flagged / (reps * COLUMNS),
        "share_flagged_uncorrected": uncorrected / (reps * COLUMNS),
        "worst_column": max(per_column.items(), key=lambda kv: kv[1]) if per_column else None,
        "seconds": time.perf_counter() - started,
    }


def real_drift(n: int, seeds: int) -> list[dict[str, Any]]:
    rows = []
    for kind, column in DRIFTED_COLUMN.items():
        hits = {"exact": 0, "profile": 0}
        others = {"exact": 0, "profile": 0}
        for s in range(seeds):
            reference, current = null_table(n, 900 + 2 * s), null_table(n, 901 + 2 * s)
            changed = with_drift(current, kind, seed=s)
            paths = {"profile": drift(profile(reference), profile(changed))}
            if n <= 100_000:
                paths["exact"] = drift(reference, changed)
            for path, report in paths.items():
                hits[path] += column in report.drifted_columns
                others[path] += len(set(report.drifted_columns) - {column})
        rows.append(
            {
                "rows": n,
                "change": kind,
                "column": column,
                "seeds": seeds,
                **{
                    f"detected_{p}": hits[p] / seeds for p in hits if n <= 100_000 or p == "profile"
                },
                "other_columns_flagged": sum(others.values()),
            }
        )
    return rows


# ----------------------------------------------------------------------- the KS p-value study

KS_SHAPES = {
    "normal": lambda rng, size, shift: rng.normal(shift, 1.0, size),
    "lognormal": lambda rng, size, shift: np.exp(rng.normal(shift, 1.0, size)),
    "poisson(4)": lambda rng, size, shift: rng.poisson(4.0 + 2.0 * shift, size).astype(float),
}
KS_SIZES = [(30, 60), (50, 150), (100, 2_400), (500, 500), (1_500, 3_000), (10_000, 10_000)]
"""Effective sizes 20, 37.5, 96 (an hour of 100 rows against a day: the fleet benchmark), 250,
1,000 and 5,000."""
ALPHAS = (0.05, 0.01)
SHIFT = 3.0
"""Power: the current sample moved by SHIFT / sqrt(en) standard deviations."""


def p_kstwo(d: float, n: int, m: int) -> float:
    """(a) The p-value drift read until now (ks.p_value before issue 19)."""
    en = n * m / (n + m)
    if d <= 0:
        return 1.0
    if en > 10_000:
        return float(stats.kstwobign.sf(d * math.sqrt(en)))
    return float(stats.kstwo.sf(d, max(1, round(en))))


def p_stephens(d: float, n: int, m: int) -> float:
    """(b) Stephens' asymptotic form (scipy.special.kolmogorov is kstwobign.sf without the
    rv_continuous wrapper)."""
    en = n * m / (n + m)
    return float(special.kolmogorov(d * (math.sqrt(en) + 0.12 + 0.11 / math.sqrt(en))))


def p_stephens_wrapped(d: float, n: int, m: int) -> float:
    """(b) as first measured: through kstwobign.sf (timing only; the same values)."""
    en = n * m / (n + m)
    return float(stats.kstwobign.sf(d * (math.sqrt(en) + 0.12 + 0.11 / math.sqrt(en))))


KS_P = {"kstwo (a)": p_kstwo, "Stephens (b)": p_stephens, "p_value (c)": p_value}


def d_raw(x: np.ndarray, y: np.ndarray) -> float:
    """The two-sample D on raw values (as scipy.stats.ks_2samp computes it)."""
    xs, ys = np.sort(x), np.sort(y)
    points = np.concatenate([xs, ys])
    f = np.searchsorted(xs, points, side="right") / xs.size
    g = np.searchsorted(ys, points, side="right") / ys.size
    return float(np.max(np.abs(f - g)))


def _column(values: np.ndarray) -> Any:
    return profile({"v": values}).columns["v"]


def ks_statistics(shape: str, n: int, m: int, reps: int, seed: int) -> dict[str, np.ndarray]:
    """D from profiles and from raw samples, with no drift (h0) and with the shift (h1), and
    the raw path's own p-value (vigil's ks_exact: SciPy's exact two-sample law up to 1,000 rows)."""
    gen = KS_SHAPES[shape]
    shift = SHIFT / math.sqrt(n * m / (n + m))
    out: dict[str, list[float]] = {
        k: [] for k in ("profile_h0", "raw_h0", "profile_h1", "raw_h1", "raw_path_p_h0")
    }
    for rep in range(reps):
        rng = np.random.default_rng([seed, n, m, rep])
        x, y0, y1 = gen(rng, n, 0.0), gen(rng, m, 0.0), gen(rng, m, shift)
        cx = _column(x)
        out["profile_h0"].append(ks_from_profiles(cx, _column(y0)).statistic)
        out["profile_h1"].append(ks_from_profiles(cx, _column(y1)).statistic)
        out["raw_h0"].append(d_raw(x, y0))
        out["raw_h1"].append(d_raw(x, y1))
        out["raw_path_p_h0"].append(ks_exact(np.sort(x), np.sort(y0)).p_value or 1.0)
    return {k: np.asarray(v) for k, v in out.items()}


def wilson(k: int, total: int) -> str:
    ci = stats.binomtest(k, total).proportion_ci(0.95, method="wilson")
    return f"{k / total:.1%} ({ci.low:.1%}-{ci.high:.1%})"


def ks_p_values(
    ds: dict[str, np.ndarray], n: int, m: int, source: str
) -> dict[str, dict[str, np.ndarray]]:
    """Every method's p-values on the same D's (h0 and h1)."""
    return {
        name: {h: np.array([f(float(d), n, m) for d in ds[f"{source}_{h}"]]) for h in ("h0", "h1")}
        for name, f in KS_P.items()
    }


def _flips(p: np.ndarray, ref: np.ndarray, alpha: float) -> str:
    more = int(np.sum((p < alpha) & (ref >= alpha)))
    fewer = int(np.sum((p >= alpha) & (ref < alpha)))
    return f"+{more}/-{fewer}"


def ks_timing(calls: list[tuple[float, int, int]], rounds: int = 3) -> dict[str, float]:
    """CPU microseconds per call (process time: less skewed by other work than wall time),
    every contender in each round, the median of the rounds."""
    contenders: dict[str, Any] = {**KS_P, "(b) via kstwobign.sf": p_stephens_wrapped}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    times["(a) vectorised, 50 a call"] = []
    d = np.array([c[0] for c in calls])
    size = np.array([max(1, round(c[1] * c[2] / (c[1] + c[2]))) for c in calls])
    for _ in range(rounds):
        for name, f in contenders.items():
            started = time.process_time()
            for c in calls:
                f(*c)
            times[name].append((time.process_time() - started) / len(calls) * 1e6)
        started = time.process_time()
        for i in range(0, len(calls), 50):
            stats.kstwo.sf(d[i : i + 50], size[i : i + 50])
        times["(a) vectorised, 50 a call"].append(
            (time.process_time() - started) / len(calls) * 1e6
        )
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def ks_study(reps: int, timing_calls: int) -> None:
    from common import Machine, load_average

    started = time.perf_counter()
    load_before = load_average()
    print(
        f"KS p-value study: {reps} pairs per cell; {Machine.here().markdown()}; load {load_before:.2f}"
    )
    print()
    methods = list(KS_P)
    head = (
        "| shape | n x m (en) | D from | "
        + " | ".join(f"false alarms {a:g}: {m}" for a in ALPHAS for m in methods)
        + " | raw path today (ks_exact) 0.05 | "
        + " | ".join(f"power 0.05: {m}" for m in methods)
        + " | decisions vs (a), H0 0.05 / 0.01 / H1 0.05: (b); (c) | max abs p - p(a): (b); (c) |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    pooled: dict[str, dict[str, list[np.ndarray]]] = {}
    calls: dict[float, list[tuple[float, int, int]]] = {}
    for shape in KS_SHAPES:
        for n, m in KS_SIZES:
            ds = ks_statistics(shape, n, m, reps, seed=19)
            en = n * m / (n + m)
            for source in ("profile", "raw"):
                ps = ks_p_values(ds, n, m, source)
                for name in methods:
                    for h in ("h0", "h1"):
                        pooled.setdefault(f"{source}|{name}", {}).setdefault(h, []).append(
                            ps[name][h]
                        )
                if source == "profile":
                    per = max(1, timing_calls // (2 * len(KS_SHAPES)))
                    calls.setdefault(en, []).extend(
                        (float(d), n, m) for h in ("h0", "h1") for d in ds[f"profile_{h}"][:per]
                    )
                ref = ps["kstwo (a)"]
                cells = [
                    wilson(int(np.sum(ps[name]["h0"] < a)), reps)
                    for a in ALPHAS
                    for name in methods
                ]
                raw_path = (
                    wilson(int(np.sum(ds["raw_path_p_h0"] < 0.05)), reps)
                    if source == "raw"
                    else "-"
                )
                power = [f"{np.mean(ps[name]['h1'] < 0.05):.1%}" for name in methods]
                flips = "; ".join(
                    " / ".join(
                        [
                            _flips(ps[name]["h0"], ref["h0"], 0.05),
                            _flips(ps[name]["h0"], ref["h0"], 0.01),
                            _flips(ps[name]["h1"], ref["h1"], 0.05),
                        ]
                    )
                    for name in methods[1:]
                )
                gaps = "; ".join(
                    f"{max(np.max(np.abs(ps[name][h] - ref[h])) for h in ('h0', 'h1')):.1e}"
                    for name in methods[1:]
                )
                print(
                    f"| {shape} | {n:,} x {m:,} ({en:,.0f}) | {source} | {' | '.join(cells)} | "
                    f"{raw_path} | {' | '.join(power)} | {flips} | {gaps} |",
                    flush=True,
                )
    print()
    print("Pooled over shapes and sizes (Wilson 95% intervals; decisions paired on the same D):")
    print()
    print(
        "| D from | p-value | false alarms 0.05 | false alarms 0.01 | power 0.05 | power 0.01 | "
        "decisions vs (a) H0 0.05 / 0.01 | H1 0.05 / 0.01 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for key, by_h in pooled.items():
        source, name = key.split("|")
        h0, h1 = np.concatenate(by_h["h0"]), np.concatenate(by_h["h1"])
        ref = pooled[f"{source}|kstwo (a)"]
        r0, r1 = np.concatenate(ref["h0"]), np.concatenate(ref["h1"])
        print(
            f"| {source} | {name} | {wilson(int(np.sum(h0 < 0.05)), h0.size)} | "
            f"{wilson(int(np.sum(h0 < 0.01)), h0.size)} | {wilson(int(np.sum(h1 < 0.05)), h1.size)} | "
            f"{wilson(int(np.sum(h1 < 0.01)), h1.size)} | "
            f"{_flips(h0, r0, 0.05)} / {_flips(h0, r0, 0.01)} | "
            f"{_flips(h1, r1, 0.05)} / {_flips(h1, r1, 0.01)} |"
        )
    print()
    print(
        f"CPU time per call (process time, median of 3 rounds) on {timing_calls} D's per effective "
        "size from the profile path (H0 and H1, every shape), all contenders side by side:"
    )
    print()
    names = [*KS_P, "(b) via kstwobign.sf", "(a) vectorised, 50 a call"]
    print("| en | " + " | ".join(f"{name} us" for name in names) + " | (a) / (b) | (a) / (c) |")
    print("|---|" + "---|" * (len(names) + 2))
    for en, batch in calls.items():
        t = ks_timing(batch)
        base = t["kstwo (a)"]
        print(
            f"| {en:,.0f} | "
            + " | ".join(f"{t[name]:,.1f}" for name in names)
            + f" | {base / t['Stephens (b)']:,.0f}x | {base / t['p_value (c)']:,.0f}x |",
            flush=True,
        )
    print()
    print(
        f"load average {load_before:.2f} before, {load_average():.2f} after; "
        f"{os.cpu_count()} CPUs; {time.perf_counter() - started:.0f} s"
    )


# -------------------------------------------------- the sketch-error study (profile-path KS)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--pool", type=int, default=21)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--ks", action="store_true", help="run the KS p-value study instead")
    parser.add_argument("--reps", type=int, default=1_000, help="--ks: pairs per cell")
    parser.add_argument("--timing-calls", type=int, default=300, help="--ks: D's timed per size")
    parser.add_argument(
        "--sketch", action="store_true", help="run the profile-path sketch-error study instead"
    )
    parser.add_argument(
        "--large-reps", type=int, default=60, help="--sketch: pairs at 40,000 and 1M rows (0: none)"
    )
    parser.add_argument(
        "--max-en", type=float, default=math.inf, help="--sketch: only cells up to this en"
    )
    args = parser.parse_args()
    if args.sketch:
        if args.reps < 10 or args.large_reps < 0:
            parser.error(
                f"--reps must be >= 10 and --large-reps >= 0, got {args.reps} and {args.large_reps}"
            )
        sketch_study(args.reps, args.large_reps, args.max_en)
        return
    if args.ks:
        if args.reps < 10 or not 6 <= args.timing_calls <= 2 * args.reps:
            parser.error(
                "--reps must be >= 10 and --timing-calls from 6 to 2 x --reps, got "
                f"{args.reps} and {args.timing_calls}"
            )
        ks_study(args.reps, args.timing_calls)
        return
    print(
        "| rows | path | repetitions | columns flagged (BH) | without BH | most flagged column | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for exact in (False, True):
            if exact and n > 100_000:
                continue
            r = no_drift(n, args.pool, exact, seed=n + (1 if exact else 0))
            worst = f"{r['worst_column'][0]} ({r['worst_column'][1]})" if r["worst_column"] else "-"
            print(
                f"| {n:,} | {r['path']} | {r['repetitions']} | {r['share_flagged']:.2%} | "
                f"{r['share_flagged_uncorrected']:.2%} | {worst} | {r['seconds']:.0f} |",
                flush=True,
            )
    print()
    print(
        "| rows | change | column | detected (exact path) | detected (profile path) | other columns flagged |"
    )
    print("|---|---|---|---|---|---|")
    for n in (100_000, 1_000_000):
        if n not in args.sizes:
            continue
        for r in real_drift(n, args.seeds):
            exact = f"{r['detected_exact']:.0%}" if "detected_exact" in r else "n/a (> 100k rows)"
            print(
                f"| {n:,} | {r['change']} | {r['column']} | {exact} | {r['detected_profile']:.0%} | "
                f"{r['other_columns_flagged']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
