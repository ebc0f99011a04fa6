"""Two model versions' KPI over the same period: difference and relative change of the means,
and Welch's t-test (unequal variances) on the values logged for each version (from each side's
count, mean and variance, aggregated by the database).

Each logged value is one observation (e.g. one order's revenue, one session's conversion);
log per-request values, not pre-aggregated ones, for the test to mean what it says.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy.orm import Session

from vigil.analysis.kpi import KpiComparison, KpiSample, Moments, WelchResult, welch, welch_t_test
from vigil.errors import InvalidInputError
from vigil.kpi.series import moments

__all__ = ["KpiComparison", "KpiSample", "WelchResult", "compare", "welch", "welch_t_test"]


def _sample(version: str, found: Moments | None) -> KpiSample:
    if found is None:
        return KpiSample(version=version, count=0, mean=None, std=None, sum=0.0)
    std = math.sqrt(found.variance) if found.variance is not None else None
    return KpiSample(version=version, count=found.count, mean=found.mean, std=std, sum=found.sum)


def compare(
    session: Session,
    name: str,
    model: str,
    a: str,
    b: str,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> KpiComparison:
    """KPI `name` of `model`'s version `b` against version `a`, over [start, end)."""
    if a == b:
        raise InvalidInputError(f"compare two different versions; both are {a!r}")
    if start is not None and end is not None and end <= start:
        raise InvalidInputError(
            f"end ({end.isoformat()}) must be after start ({start.isoformat()})"
        )
    found = moments(session, name, model, versions=[a, b], start=start, end=end)
    ma, mb = found.get((a, None)), found.get((b, None))
    sa, sb = _sample(a, ma), _sample(b, mb)
    difference = relative = None
    if sa.mean is not None and sb.mean is not None:
        difference = sb.mean - sa.mean
        relative = difference / abs(sa.mean) if sa.mean else None
    test = None
    if ma is not None and mb is not None and ma.variance is not None and mb.variance is not None:
        test = welch(ma.mean, ma.variance, ma.count, mb.mean, mb.variance, mb.count)
    return KpiComparison(
        name=name,
        model=model,
        start=start,
        end=end,
        a=sa,
        b=sb,
        difference=difference,
        relative_change=relative,
        t_statistic=test.statistic if test else None,
        degrees_of_freedom=test.df if test else None,
        p_value=test.p_value if test else None,
    )
