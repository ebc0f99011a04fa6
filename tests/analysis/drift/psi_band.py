"""How far PSI's profile path may be from its exact path in a test, from a measured distribution.

PSI's profile path cuts the reference at its KLL sketch's deciles and reads both columns' shares
from the sketches. DataSketches' KLL compactions toss coins no seed reaches, so the gap
(profile - exact) on fixed data is a random variable. Measured over 1,000 sketchings of each
case of `numeric_cases` (tests/analysis/drift/test_methods.py), its standard deviation is 0.001
to 0.011 and its mean 0.0005 to 0.011 (the profile path reads PSI a little high): against the
method's documented 0.04, the uniform cases sit 3 to 3.5 standard deviations away, so the test
failed about once in a thousand runs (it did once at a gap above 0.04).

So the test draws `DRAWS` independent sketchings of each case and checks the mean of their gaps
against that case's measured band, `MEAN + Z x SD / sqrt(DRAWS)` either side. The mean of the draws
is close to normal (the single gap is, with a skew of at most 0.6; the mean of 8 divides it by 2.8), and
`false_failure_rate` computes the chance that a correct profile path fails: a normal tail at `Z`
standard deviations, the upper one widened for the skew by Cornish-Fisher, summed over the cases
(about 1e-6). A wrong path (bins off by one, the current's deciles as edges, a lost edge) moves the
gap by 0.05 to 1 in some case, far outside every band (checked by hand with broken paths; see
docs/benchmarks.md, issue 19's tick section of 2026-12-07, tick helper).

Re-measure after a change to the sketches or to PSI: `python -m tests.analysis.drift.psi_band
1000` prints the table below.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping

import numpy as np
import pyarrow as pa
from scipy import stats

from vigil.analysis.drift import get_method
from vigil.profile.columns import NumericColumn

DRAWS = 8
"""Sketchings of each case per test run (their gaps' mean is checked)."""
Z = 6.5
"""The band's half-width in standard deviations of that mean."""

GAPS: Mapping[str, tuple[float, float, float]] = {
    # 1,000 sketchings per case, 2026-12-07 (commit b67e8b7): the largest |gap| seen, and the
    # extreme gaps in standard deviations from the mean.
    "normal-null-3000": (0.00211, 0.00241, 0.46),  # 0.0114; -2.32 to +3.86
    "normal-shift-3000": (0.00476, 0.00665, 0.20),  # 0.0337; -2.67 to +4.34
    "uniform-3000": (0.00963, 0.00986, 0.29),  # 0.0410; -2.78 to +3.18
    "poisson-3000": (0.00062, 0.00415, 0.25),  # 0.0141; -3.05 to +3.25
    "normal-null-30000": (0.00160, 0.00116, 0.95),  # 0.0079; -1.90 to +5.46
    "normal-shift-30000": (0.00527, 0.00526, 0.15),  # 0.0223; -2.82 to +3.24
    "uniform-30000": (0.00551, 0.01027, 0.27),  # 0.0498; -2.66 to +4.31
    "poisson-30000": (0.00061, 0.00343, 0.21),  # 0.0121; -2.88 to +3.34
}
"""Per case: the measured mean, standard deviation and skewness of one sketching's gap."""


def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The data of `numeric_cases` (the same seed and order)."""
    rng = np.random.default_rng(11)
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for n in (3_000, 30_000):
        found[f"normal-null-{n}"] = (rng.normal(0, 1, n), rng.normal(0, 1, n))
        found[f"normal-shift-{n}"] = (rng.normal(0, 1, n), rng.normal(0.3, 1.2, n))
        found[f"uniform-{n}"] = (rng.uniform(0, 1, n), rng.uniform(0.05, 1.1, n))
        found[f"poisson-{n}"] = (
            rng.poisson(3, n).astype(float),
            rng.poisson(3.3, n).astype(float),
        )
    return found


def gaps(x: np.ndarray, y: np.ndarray, draws: int) -> np.ndarray:
    """`draws` gaps of PSI's profile path from its exact path, each on fresh sketches."""
    method = get_method("psi")
    exact = method.numeric_exact(np.sort(x), np.sort(y)).statistic  # type: ignore[misc]
    ax, ay = pa.array(x), pa.array(y)
    profile: Callable[..., object] = method.numeric_profile  # type: ignore[assignment]
    return np.array(
        [
            profile(NumericColumn.of(ax), NumericColumn.of(ay)).statistic - exact  # type: ignore[attr-defined]
            for _ in range(draws)
        ]
    )


def band(case: str) -> tuple[float, float]:
    """The interval the mean of `DRAWS` gaps of `case` lies in for a correct profile path."""
    mean, sd, _ = GAPS[case]
    half = Z * sd / math.sqrt(DRAWS)
    return mean - half, mean + half


def false_failure_rate() -> float:
    """The chance that one run of the test fails with a correct profile path: per case, the
    normal tails beyond `Z`, the upper one at the normal quantile whose Cornish-Fisher
    correction for the mean's skewness reaches `Z`; summed over the cases."""
    total = 0.0
    for _, _, skew in GAPS.values():
        gamma = skew / math.sqrt(DRAWS)  # the skewness of a mean of DRAWS draws
        # z + (z^2 - 1) gamma / 6 = Z, solved for z (gamma > 0: the upper tail is longer).
        if abs(gamma) < 1e-12:
            upper = lower = Z
        else:
            a = abs(gamma) / 6
            z = (-1 + math.sqrt(1 + 4 * a * (Z + a))) / (2 * a)
            upper, lower = (z, Z) if gamma > 0 else (Z, z)
        total += float(stats.norm.sf(upper) + stats.norm.sf(lower))
    return total


def measure(draws: int) -> None:
    """Print the `GAPS` table from `draws` sketchings of every case."""
    for case, (x, y) in cases().items():
        found = gaps(x, y, draws)
        mean, sd = float(found.mean()), float(found.std(ddof=1))
        print(f'    "{case}": ({mean:.5f}, {sd:.5f}, {float(stats.skew(found)):.2f}),')


if __name__ == "__main__":
    measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)
