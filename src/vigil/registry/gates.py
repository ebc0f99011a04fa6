"""Promotion gates: checks a version must pass before an alias moves to it.

>>> gates = Gates(suite="checks.yaml", metric="auc", margin=0.01)
>>> registry.set_alias("churn", "production", 4, gates=gates)

`suite` (a `vigil.Suite`, a YAML file path or YAML text) runs on the version's training dataset
profile (given to `register(profile=...)`); `metric` compares the version's stored metric with
the current holder's: with `mode="max"` (higher is better) the candidate may be at most `margin`
below the holder, with `mode="min"` at most `margin` above it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vigil.analysis.validation import Suite
from vigil.errors import InvalidInputError
from vigil.registry.types import ModelVersionInfo

if TYPE_CHECKING:
    from vigil.profile import DatasetProfile

MetricMode = Literal["max", "min"]


@dataclass(frozen=True)
class Gates:
    """The checks to run before an alias moves; each one is optional."""

    suite: Suite | str | os.PathLike[str] | None = None
    metric: str | None = None
    margin: float = 0.0
    mode: MetricMode = "max"

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise InvalidInputError(
                f"gate mode must be 'max' (higher is better) or 'min', got {self.mode!r}"
            )
        if isinstance(self.margin, bool) or not isinstance(self.margin, int | float):
            raise InvalidInputError(f"gate margin must be a number, got {self.margin!r}")
        if not math.isfinite(self.margin) or self.margin < 0:
            raise InvalidInputError(
                f"gate margin must be a finite number >= 0, got {self.margin!r}"
            )
        if self.metric is not None and (not isinstance(self.metric, str) or not self.metric):
            raise InvalidInputError(f"gate metric must be a metric name, got {self.metric!r}")

    def load_suite(self) -> Suite | None:
        if self.suite is None or isinstance(self.suite, Suite):
            return self.suite
        if isinstance(self.suite, os.PathLike) or (
            "\n" not in self.suite and Path(self.suite).expanduser().is_file()
        ):
            return Suite.load(Path(self.suite).expanduser())
        return Suite.from_yaml(self.suite)


@dataclass(frozen=True, slots=True)
class GateOutcome:
    """Whether the gates passed, why not, and the numbers they looked at."""

    passed: bool
    reasons: tuple[str, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)


def evaluate(
    gates: Gates,
    candidate: ModelVersionInfo,
    holder: ModelVersionInfo | None,
    profile: DatasetProfile | None,
) -> GateOutcome:
    """Run `gates` for moving an alias from `holder` (None: the alias is new) to `candidate`."""
    reasons: list[str] = []
    numbers: dict[str, Any] = {}
    suite = gates.load_suite()
    if suite is not None:
        if profile is None:
            reasons.append(
                f"version {candidate.version} has no training dataset profile to validate; "
                "register it with profile=vigil.profile(training_data)"
            )
        else:
            result = suite.validate(profile)
            numbers["suite"] = {
                "passed": result.passed,
                "n_checks": len(result.results),
                "n_failed": len(result.failures),
            }
            for failure in result.failures:
                reasons.append(f"validation check failed: {failure.message}")
    if gates.metric is not None:
        metric = gates.metric
        value = candidate.metrics.get(metric)
        numbers["metric"] = metric
        numbers["candidate"] = value
        numbers["margin"] = gates.margin
        numbers["mode"] = gates.mode
        if value is None:
            reasons.append(
                f"version {candidate.version} has no metric {metric!r} "
                f"(it has {sorted(candidate.metrics) or 'none'}); register it with metrics="
            )
        elif holder is not None and metric in holder.metrics:
            current = holder.metrics[metric]
            numbers["holder_version"] = holder.version
            numbers["holder"] = current
            worse_by = current - value if gates.mode == "max" else value - current
            numbers["worse_by"] = worse_by
            if worse_by > gates.margin:
                reasons.append(
                    f"{metric} of version {candidate.version} is {value:g}, worse than "
                    f"{current:g} of the current holder, version {holder.version}, by "
                    f"{worse_by:g}, more than the allowed margin {gates.margin:g}"
                )
    return GateOutcome(not reasons, tuple(reasons), numbers)
