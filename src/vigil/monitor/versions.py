"""Compare a registered model version with the one before it (or an alias's holder): quality
metrics, feature importance ranking and training data.

This is what the `training_quality`, `feature_importance_change` and `training_data_drift`
monitor kinds measure, and what `GET /api/v1/registry/models/{name}/versions/{v}/comparison`
returns.

>>> comparison = compare_versions(store, "churn", 4, against="production")    # doctest: +SKIP
>>> comparison.quality.worst(relative=True).name, comparison.importance.spearman  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from vigil.monitor.comparisons import Direction
from vigil.monitor.trained import SECTIONS, ComparedSections, Sections, Trained, compare_trained
from vigil.registry.repository import find_model, version_info, version_row
from vigil.registry.types import ModelVersionInfo, check_alias
from vigil.store.registry_tables import RegistryModelVersion

if TYPE_CHECKING:
    from vigil.store.core import Store

PREVIOUS = "previous"


@dataclass(frozen=True)
class VersionComparison(ComparedSections):
    """A version against its reference version; `sections` None when there is no reference
    (`missing` says why)."""

    model: str
    version: int
    against: str
    reference_version: int | None
    sections: Sections = field(default_factory=Sections)

    @property
    def subject(self) -> str:
        return f"version {self.version} of {self.model!r}"

    @property
    def reference(self) -> str:
        return f"version {self.reference_version}"

    def identity(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "against": self.against,
            "reference_version": self.reference_version,
        }


def trained_version(store: Store, name: str, version: int) -> Trained:
    """What version `version` of `name` brings to a comparison."""
    with store.read_session() as session:
        row = version_row(session, find_model(session, name), version)
        return Trained(
            label=f"version {version}",
            run_id=row.run_id,
            model_version_id=row.id,
            profile_key=row.profile_key,
            metrics=dict(row.metrics),
        )


def versions_created(
    store: Store, name: str, start: dt.datetime, end: dt.datetime
) -> list[ModelVersionInfo]:
    """The versions of registered model `name` created in [start, end), oldest first."""
    with store.read_session() as session:
        model = find_model(session, name)
        rows = session.scalars(
            select(RegistryModelVersion)
            .where(
                RegistryModelVersion.model_id == model.id,
                RegistryModelVersion.created_at >= start,
                RegistryModelVersion.created_at < end,
            )
            .order_by(RegistryModelVersion.version)
        ).all()
        return [version_info(session, model, r) for r in rows]


def reference_version(
    store: Store, name: str, version: int, against: str, *, at: dt.datetime | None
) -> int | None:
    """The version `version` is compared with: the highest earlier number (`previous`), or
    the version alias `against` pointed at, at time `at` (None: now). None when there is none,
    or when the alias points at the version itself."""
    if against == PREVIOUS:
        with store.read_session() as session:
            model = find_model(session, name)
            return session.scalar(
                select(RegistryModelVersion.version)
                .where(
                    RegistryModelVersion.model_id == model.id,
                    RegistryModelVersion.version < version,
                )
                .order_by(RegistryModelVersion.version.desc())
                .limit(1)
            )
    from vigil.registry.service import Registry

    check_alias(against)
    holder = Registry(store, actor="vigil").alias_at(name, against, at or dt.datetime.now(dt.UTC))
    return None if holder == version else holder


def compare_versions(
    store: Store,
    name: str,
    version: int,
    *,
    against: str = PREVIOUS,
    at: dt.datetime | None = None,
    directions: Mapping[str, Direction] | None = None,
    metrics: Sequence[str] | None = None,
    top_k: int = 3,
    importance_method: str | None = None,
    columns: Sequence[str] | None = None,
    drift_method: str | None = None,
    drift_threshold: float | None = None,
    sections: Iterable[str] = SECTIONS,
) -> VersionComparison:
    """Compare version `version` of registered model `name` with the previous version
    (`against="previous"`) or with the holder of alias `against` at time `at` (default now)."""
    if against != PREVIOUS:
        check_alias(against)
    candidate = trained_version(store, name, version)
    number = reference_version(store, name, version, against, at=at)
    if number is None:
        what = "no earlier version" if against == PREVIOUS else f"no other holder of @{against}"
        return VersionComparison(name, version, against, None, Sections(missing=(what,)))
    found = compare_trained(
        store,
        candidate,
        trained_version(store, name, number),
        directions=directions,
        metrics=metrics,
        top_k=top_k,
        importance_method=importance_method,
        columns=columns,
        drift_method=drift_method,
        drift_threshold=drift_threshold,
        sections=sections,
    )
    return VersionComparison(name, version, against, number, found)
