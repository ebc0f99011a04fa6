"""Validation suite: the number of failed checks of a suite (given, or suggested from the
baseline) on the window's profile."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vigil.analysis.validation import Suite, suggest_checks
from vigil.errors import VigilError
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.specs import MonitorView, StaticThreshold
from vigil.monitor.windows import Window


class ValidationOptions(KindOptions):
    suite: dict[str, Any] | None = None
    """A suite as a mapping (the YAML of `Suite.to_yaml()`); default: suggested from the baseline."""
    min_rows: int = Field(default=1, ge=1)


class ValidationSuite(MonitorKind):
    name = "validation"
    cacheable = True
    description = "Number of failed checks of a validation suite."
    options_model = ValidationOptions
    needs_reference = True
    default_threshold = StaticThreshold(upper=0.0)

    def check(self, monitor: MonitorView) -> None:
        options: ValidationOptions = self.options(monitor)
        if options.suite is not None:
            try:
                Suite.from_dict(options.suite)
            except VigilError as exc:
                raise ValueError(f"invalid suite in options: {exc.message}") from None

    def measure(self, context: Context, window: Window) -> Measurement:
        options: ValidationOptions = self.options(context.monitor)
        if window.n_rows < options.min_rows:
            return Measurement(None, f"{window.n_rows} rows, fewer than {options.min_rows}")
        if options.suite is not None:
            suite = Suite.from_dict(options.suite)
        else:
            assert context.reference is not None
            suite = suggest_checks(context.reference)
        result = suite.validate(window.profile)
        failures = [r.to_dict() for r in result.failures]
        return Measurement(
            float(len(result.failures)),
            f"{len(result.failures)} of {len(result.results)} checks failed",
            {"failures": failures},
        )
