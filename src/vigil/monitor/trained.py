"""What a trained model brings to a comparison (a registered version, or a tracking run): its
quality metrics, feature importances and training data profile, read from the store; and the
comparison of two of them, section by section."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigil.monitor.comparisons import (
    Direction,
    ImportanceComparison,
    QualityComparison,
    TrainingDataComparison,
    compare_importances,
    compare_metrics,
    compare_profiles,
)

if TYPE_CHECKING:
    from vigil.profile import DatasetProfile
    from vigil.store.core import Store

IMPORTANCE_METRIC_PREFIX = "importance."
"""Run metrics named `importance.<feature>` are read as importances when none were saved."""
SECTIONS: tuple[str, ...] = ("quality", "importance", "training_data")


@dataclass(frozen=True)
class Trained:
    """A trained model: a registered version (`model_version_id`, its registered metrics and
    profile) and/or the tracking run that trained it."""

    label: str
    """How messages name it: `version 3`, `run 1a2b3c4d`."""
    run_id: str | None = None
    model_version_id: int | None = None
    profile_key: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Sections:
    """The comparisons of two trained models; a section is None when a side lacks its input
    (`missing` says what), or when it was not asked for."""

    quality: QualityComparison | None = None
    importance: ImportanceComparison | None = None
    training_data: TrainingDataComparison | None = None
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "quality": self.quality.to_dict() if self.quality else None,
            "importance": self.importance.to_dict() if self.importance else None,
            "training_data": self.training_data.to_dict() if self.training_data else None,
            "missing": list(self.missing),
        }


class ComparedSections:
    """The section accessors of a comparison that holds `sections`."""

    sections: Sections

    @property
    def quality(self) -> QualityComparison | None:
        return self.sections.quality

    @property
    def importance(self) -> ImportanceComparison | None:
        return self.sections.importance

    @property
    def training_data(self) -> TrainingDataComparison | None:
        return self.sections.training_data

    @property
    def missing(self) -> tuple[str, ...]:
        return self.sections.missing

    def identity(self) -> dict[str, Any]:
        """What is compared with what (the subclass's fields)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {**self.identity(), **self.sections.to_dict()}


def run_metrics(store: Store, run_id: str | None) -> dict[str, float]:
    """The latest value of each metric of a tracking run ({} without a run or metrics)."""
    if run_id is None:
        return {}
    from vigil.errors import NotFoundError
    from vigil.tracking.service import TrackingService

    try:
        return dict(TrackingService(store).get_run(run_id).metrics)
    except NotFoundError:
        return {}


def quality_metrics(store: Store, trained: Trained) -> dict[str, float]:
    """Its own metrics (`register(metrics=...)`), completed by its run's latest metrics."""
    metrics = {
        k: v
        for k, v in run_metrics(store, trained.run_id).items()
        if not k.startswith(IMPORTANCE_METRIC_PREFIX)
    }
    metrics.update(trained.metrics)
    return metrics


def training_profile(store: Store, trained: Trained) -> DatasetProfile | None:
    """Its training data profile: the one registered with the version, else the profile of the
    dataset version its run logged with context `training`."""
    from vigil.profile import DatasetProfile

    if trained.profile_key is not None:
        return DatasetProfile.from_bytes(store.artifacts.get(trained.profile_key))
    if trained.run_id is None:
        return None
    from vigil.tracking.datasets import DatasetService

    datasets = DatasetService(store)
    for dataset, context in datasets.inputs_of(trained.run_id):
        if context == "training":
            profile = datasets.profile(dataset)
            if profile is not None:
                return profile
    return None


def importances(
    store: Store, trained: Trained, method: str | None = None
) -> tuple[dict[str, float], str] | None:
    """Its feature importances and their source: those saved with `vigil.explain` for the
    version, else for its run (`explain`), else its run's metrics `importance.<feature>`."""
    from vigil.importances.store import load_importances

    with store.read_session() as session:
        found = None
        if trained.model_version_id is not None:
            found = load_importances(
                session, model_version_id=trained.model_version_id, method=method
            )
        if not found and trained.run_id is not None:
            found = load_importances(session, run_id=trained.run_id, method=method)
    if found:
        return dict(found), "explain"
    logged = {
        k[len(IMPORTANCE_METRIC_PREFIX) :]: v
        for k, v in run_metrics(store, trained.run_id).items()
        if k.startswith(IMPORTANCE_METRIC_PREFIX) and math.isfinite(v)
    }
    return (logged, "run_metrics") if logged else None


def _absent(sides: Sequence[Trained], found: Sequence[object | None]) -> str:
    return " and ".join(t.label for t, f in zip(sides, found, strict=True) if f is None)


def compare_trained(
    store: Store,
    candidate: Trained,
    reference: Trained,
    *,
    directions: Mapping[str, Direction] | None = None,
    metrics: Sequence[str] | None = None,
    top_k: int = 3,
    importance_method: str | None = None,
    columns: Sequence[str] | None = None,
    drift_method: str | None = None,
    drift_threshold: float | None = None,
    sections: Iterable[str] = SECTIONS,
) -> Sections:
    """`candidate` against `reference`, for each of `sections`."""
    wanted = set(sections)
    missing: list[str] = []
    quality = importance = training = None
    if "quality" in wanted:
        quality = compare_metrics(
            quality_metrics(store, candidate),
            quality_metrics(store, reference),
            names=metrics,
            directions=directions,
        )
        if not quality.metrics:
            missing.append("no quality metric with a known direction on both")
    if "importance" in wanted:
        found = [importances(store, t, importance_method) for t in (candidate, reference)]
        if found[0] is None or found[1] is None:
            missing.append(f"no feature importances for {_absent((candidate, reference), found)}")
        else:
            (new, source_a), (old, source_b) = found[0], found[1]
            source = source_a if source_a == source_b else f"{source_a}+{source_b}"
            importance = compare_importances(new, old, top_k=top_k, source=source)
    if "training_data" in wanted:
        profiles = [training_profile(store, t) for t in (candidate, reference)]
        if profiles[0] is None or profiles[1] is None:
            absent = _absent((candidate, reference), profiles)
            missing.append(f"no training data profile for {absent}")
        else:
            training = compare_profiles(
                profiles[0],
                profiles[1],
                columns=columns,
                method=drift_method,
                threshold=drift_threshold,
            )
    return Sections(quality, importance, training, tuple(missing))
