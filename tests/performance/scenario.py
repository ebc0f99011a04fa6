"""A synthetic covariate-shift scenario shared by the estimation tests and the CBPE benchmark.

The true log-odds are 2*x1 + x2; the model sees only x1 and is over-confident
(score = sigmoid(2.6 * x1 + 0.2)). The reference period has x1 ~ N(0, 1); later windows shift x1
to N(mu, 1) with mu growing, while x2 ~ N(0, 1) and P(y | x1) stay as they were: covariate shift
without concept drift, the case CBPE is built for. Accuracy and ROC AUC change with the shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SHIFTS = (0.0, 0.0, 0.3, 0.6, 0.9, 1.2, -0.6, -1.2)


@dataclass(frozen=True)
class Period:
    x1: npt.NDArray[np.float64]
    score: npt.NDArray[np.float64]
    predicted: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]


def period(rng: np.random.Generator, n: int, shift: float = 0.0) -> Period:
    x1 = rng.normal(shift, 1.0, n)
    x2 = rng.normal(0.0, 1.0, n)
    label = (rng.random(n) < 1 / (1 + np.exp(-(2 * x1 + x2)))).astype(np.int64)
    score = 1 / (1 + np.exp(-(2.6 * x1 + 0.2)))
    return Period(x1, score, (score >= 0.5).astype(np.int64), label)


def scenario(
    seed: int = 7, n_reference: int = 20_000, n_window: int = 8_000
) -> tuple[Period, list[Period]]:
    rng = np.random.default_rng(seed)
    return period(rng, n_reference), [period(rng, n_window, s) for s in SHIFTS]
