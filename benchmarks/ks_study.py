"""Issue 19: the KS p-value study, run by `drift_false_alarms.py --ks`.

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
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from vigil.analysis.drift.ks import (
    ks_exact,
    ks_from_profiles,
    p_value,
)
from vigil.profile import profile

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
