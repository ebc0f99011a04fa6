"""What the kinds that judge new trained models share: which registered versions (or which
tracking runs) arrived in the window, and what each is compared with (`options.against`).

They are evaluated on the monitor's windows like every kind: when a window closes, each version
registered in it is compared with the previous version or an alias's holder at the time it was
registered (with `options.experiment`: each run of that experiment that finished in it, with the
run that finished before); the window's value is the worst of them, and a window with nothing
new is not judged (an open alert stays open until a later one passes).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, Protocol

from pydantic import Field, field_validator, model_validator

from vigil.errors import InvalidInputError
from vigil.monitor.comparisons import (
    ImportanceComparison,
    QualityComparison,
    TrainingDataComparison,
)
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.runs import compare_runs, runs_finished
from vigil.monitor.specs import LearnedThreshold, MonitorView, RegistryBaseline
from vigil.monitor.versions import PREVIOUS, compare_versions, versions_created
from vigil.monitor.windows import Window
from vigil.registry.types import check_alias


class Comparison(Protocol):
    """A version's or a run's comparison, as the training kinds judge it."""

    @property
    def quality(self) -> QualityComparison | None: ...
    @property
    def importance(self) -> ImportanceComparison | None: ...
    @property
    def training_data(self) -> TrainingDataComparison | None: ...
    @property
    def missing(self) -> tuple[str, ...]: ...
    @property
    def subject(self) -> str: ...
    @property
    def reference(self) -> str: ...
    def identity(self) -> dict[str, Any]: ...


class TrainingOptions(KindOptions):
    against: str = Field(default=PREVIOUS, max_length=200)
    """`previous` (the version just before) or an alias (`production`): its holder when the
    new version was registered."""
    registered_model: str | None = Field(default=None, max_length=200)
    """The registered model (default: the monitored model's `registry_model`)."""
    experiment: str | None = Field(default=None, min_length=1, max_length=500)
    """Judge the finished runs of this experiment instead of registered versions."""

    @field_validator("against")
    @classmethod
    def _alias(cls, value: str) -> str:
        if value != PREVIOUS:
            try:
                check_alias(value)
            except InvalidInputError as exc:
                raise ValueError(f"against: {exc.message}") from None
        return value

    @model_validator(mode="after")
    def _runs_against_previous(self) -> TrainingOptions:
        if self.experiment is not None and self.against != PREVIOUS:
            raise ValueError(
                f"runs of experiment {self.experiment!r} are compared with the previous run; "
                f"against={self.against!r} applies to registered versions"
            )
        return self


class TrainingKind(MonitorKind):
    """A kind measured on the versions (or runs) that arrived in the window."""

    options_model: ClassVar[type[KindOptions]] = TrainingOptions
    needs_profile = False
    default_baseline = RegistryBaseline(alias="production")
    """Not a reference here (versions are compared as `options.against` says); a baseline with
    no windows, so that evaluating reads none."""
    section: ClassVar[str]
    worse_when_higher: ClassVar[bool] = True

    def check(self, monitor: MonitorView) -> None:
        super().check(monitor)
        if monitor.baseline is not None:
            raise ValueError(
                f"a {self.name!r} monitor compares each new version with the one set by "
                "`options.against` (previous, or an alias); remove `baseline`"
            )
        if isinstance(monitor.threshold, LearnedThreshold):
            raise ValueError(
                f"a {self.name!r} monitor judges versions, not windows: use a static threshold"
            )

    @abstractmethod
    def compare_args(self, options: Any) -> dict[str, Any]: ...

    @abstractmethod
    def judge(self, comparison: Comparison, options: Any) -> Measurement: ...

    def measure(self, context: Context, window: Window) -> Measurement:
        options = self.options(context.monitor)
        store = context.store
        if store is None:
            raise InvalidInputError(f"a {self.name!r} monitor needs the store to read the registry")
        args = {"sections": (self.section,), **self.compare_args(options)}
        comparisons: list[Comparison]
        if options.experiment is not None:
            ids = runs_finished(store, options.experiment, window.start, window.end)
            comparisons = [compare_runs(store, run_id, **args) for run_id in ids]
            nothing = f"no run of experiment {options.experiment!r} finished in this window"
        else:
            name = options.registered_model or context.model.registry_model
            if name is None:
                raise InvalidInputError(
                    f"monitor {context.monitor.name!r} names no `options.registered_model`, and "
                    f"model {context.model.name!r} names no registry_model"
                )
            comparisons = [
                compare_versions(
                    store, name, v.version, against=options.against, at=v.created_at, **args
                )
                for v in versions_created(store, name, window.start, window.end)
            ]
            nothing = f"no version of {name!r} was registered in this window"
        if not comparisons:
            return Measurement(None, nothing)
        judged = [self.judge(c, options) for c in comparisons]
        measured = [m for m in judged if m.value is not None]
        if not measured:
            return judged[-1]
        pick = max if self.worse_when_higher else min
        worst = pick(measured, key=lambda m: m.value if m.value is not None else 0.0)
        if len(judged) > 1:
            details = {**worst.details, "compared": [dict(m.details) for m in judged]}
            return Measurement(worst.value, worst.message, details)
        return worst


def nothing_to_compare(comparison: Comparison) -> Measurement:
    reasons = "; ".join(comparison.missing) or "nothing to compare"
    return Measurement(None, f"{comparison.subject}: {reasons}", comparison.identity())
