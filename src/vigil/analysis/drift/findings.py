"""What `vigil.drift` found, as values: one `ColumnDrift` per column and the dataset verdict.

`DriftReport` (report.py) is these findings plus their text, HTML and notebook views; the
renderers (text.py, html.py) read the findings, so none of them imports the report back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from vigil.analysis.drift.base import StatisticType
from vigil.analysis.drift.inputs import Distribution, NewCategory
from vigil.analysis.multivariate import MultivariateDrift
from vigil.schema import ColumnKind

Role = Literal["feature", "prediction", "target"]
DriftPath = Literal["exact", "profile"]


def _num(value: float | None) -> float | None:
    """JSON-safe float: NaN and infinities become null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """Drift of one column.

    A test (`statistic_type == "p_value"`) flags drift when its p-value, corrected across columns
    (`adjusted_p_value`), is below `threshold` AND `effect_size` reaches `effect_threshold`; a
    distance flags drift when `statistic` reaches `threshold`.
    """

    name: str
    kind: ColumnKind
    role: Role
    method: str
    statistic_type: StatisticType
    statistic: float
    p_value: float | None
    adjusted_p_value: float | None
    threshold: float
    drifted: bool
    effect_size: float
    effect_method: str
    effect_threshold: float | None
    error_bound: float | None
    path: DriftPath
    reference_missing_share: float
    current_missing_share: float
    new_categories: tuple[NewCategory, ...] = ()
    new_category_share: float = 0.0
    distribution: Distribution | None = None

    @property
    def missing_share_change(self) -> float:
        """Current minus reference share of missing values."""
        return self.current_missing_share - self.reference_missing_share

    @property
    def severity(self) -> float:
        """How far past its bar the column is (1.0 = at the bar), to sort reports by drift."""
        if self.statistic_type == "distance":
            value, bar = self.statistic, self.threshold
        else:
            value, bar = self.effect_size, self.effect_threshold or 0.0
        if not math.isfinite(value):
            return 0.0
        return value / bar if bar > 0 else value

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": self.kind.value,
            "method": self.method,
            "statistic": _num(self.statistic),
            "p_value": _num(self.p_value),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "role": self.role,
            "statistic_type": self.statistic_type,
            "adjusted_p_value": _num(self.adjusted_p_value),
            "effect_size": _num(self.effect_size),
            "effect_method": self.effect_method,
            "effect_threshold": self.effect_threshold,
            "error_bound": _num(self.error_bound),
            "path": self.path,
            "missing_share": {
                "reference": _num(self.reference_missing_share),
                "current": _num(self.current_missing_share),
                "change": _num(self.missing_share_change),
            },
            "new_categories": [{"value": n.value, "share": n.share} for n in self.new_categories],
            "new_category_share": self.new_category_share,
        }
        if self.distribution is not None:
            body["distribution"] = self.distribution.to_dict()
        return body


@dataclass(frozen=True, repr=False)
class DriftFindings:
    """Per-column drift, the share of drifted columns and the verdict (see `DriftReport`)."""

    columns: Mapping[str, ColumnDrift]
    dataset_drift: bool
    share_drifted: float
    drift_share: float
    reference_rows: int
    current_rows: int
    path: DriftPath
    correction: Literal["bh", "none"]
    skipped: Mapping[str, str] = field(default_factory=dict)
    multivariate: tuple[MultivariateDrift, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "skipped", MappingProxyType(dict(self.skipped)))

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(name for name, c in self.columns.items() if c.drifted)

    @property
    def prediction_drift(self) -> bool:
        """True when a column named as a prediction drifted."""
        return any(c.drifted for c in self.columns.values() if c.role == "prediction")

    @property
    def target_drift(self) -> bool:
        """True when a column named as a target drifted."""
        return any(c.drifted for c in self.columns.values() if c.role == "target")

    def sorted_columns(self) -> list[ColumnDrift]:
        """Columns, drifted first, then by how far past their bar."""
        return sorted(self.columns.values(), key=lambda c: (not c.drifted, -c.severity, c.name))

    def to_dict(self) -> dict[str, Any]:
        """The schema of DESIGN.md (`dataset_drift`, `share_drifted`, `columns`), plus extras."""
        return {
            "dataset_drift": self.dataset_drift,
            "share_drifted": self.share_drifted,
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
            "drifted_columns": list(self.drifted_columns),
            "drift_share": self.drift_share,
            "prediction_drift": self.prediction_drift,
            "target_drift": self.target_drift,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "path": self.path,
            "correction": self.correction,
            "skipped": dict(self.skipped),
            "multivariate": [m.to_dict() for m in self.multivariate],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
