"""Exact, mergeable moments: count, mean and the sum of squared deviations (Chan et al.).

`merge` returns a new value and `zero()` is its identity. `merge_all` folds many in order, so its
result is bit for bit the pairwise fold's (floating-point addition is not associative: the order
of operations is the contract).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, mean and sum of squared deviations (M2), merged exactly (Chan et al.)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def zero(cls) -> Moments:
        return cls()

    @classmethod
    def of(cls, values: FloatArray) -> Moments:
        n = int(values.size)
        if n == 0:
            return cls()
        mean = float(np.mean(values))
        centred = values - mean
        # Pairwise summation, not np.dot: BLAS threads thrash on a busy machine, and the
        # pairwise sum is the more accurate of the two.
        return cls(n, mean, float(np.square(centred, out=centred).sum()))

    def merge(self, other: Moments) -> Moments:
        return merge_moments(self, other)

    @staticmethod
    def merge_all(items: Sequence[Moments]) -> Moments:
        """`merge` folded over `items` in order (the identity when there are none)."""
        return functools.reduce(merge_moments, items, Moments())

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1), NaN below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else math.nan

    @property
    def std(self) -> float:
        return math.sqrt(self.variance) if self.count > 1 else math.nan


def merge_moments(a: Moments, b: Moments) -> Moments:
    if a.count == 0:
        return b
    if b.count == 0:
        return a
    n = a.count + b.count
    delta = b.mean - a.mean
    # Weighted mean rather than a + delta * nb / n: exact when both means are equal.
    mean = (a.mean * a.count + b.mean * b.count) / n
    if not math.isfinite(mean):
        mean = a.mean + delta * (b.count / n)
    m2 = a.m2 + b.m2 + delta * delta * (a.count * b.count / n)
    return Moments(n, mean, m2)


@dataclass(frozen=True, slots=True)
class VectorMoments:
    """Per-dimension moments of fixed-length vectors, merged exactly."""

    count: int
    mean: FloatArray
    m2: FloatArray

    @classmethod
    def zero(cls, dim: int) -> VectorMoments:
        return cls(0, np.zeros(dim), np.zeros(dim))

    @classmethod
    def of(cls, matrix: FloatArray) -> VectorMoments:
        n = int(matrix.shape[0])
        if n == 0:
            return cls.zero(int(matrix.shape[1]))
        mean = matrix.mean(axis=0)
        centred = matrix - mean
        return cls(n, mean, np.einsum("ij,ij->j", centred, centred))

    def merge(self, other: VectorMoments) -> VectorMoments:
        if self.count == 0:
            return other
        if other.count == 0:
            return self
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = (self.mean * self.count + other.mean * other.count) / n
        m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / n)
        return VectorMoments(n, mean, m2)

    @staticmethod
    def merge_all(items: Sequence[VectorMoments]) -> VectorMoments:
        """`merge` folded over `items` (at least one) in order."""
        return functools.reduce(VectorMoments.merge, items[1:], items[0])

    @property
    def variance(self) -> FloatArray:
        if self.count < 2:
            return np.full(self.mean.shape, np.nan)
        result: FloatArray = self.m2 / (self.count - 1)
        return result
