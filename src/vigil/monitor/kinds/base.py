"""What every monitor kind shares: its descriptor and the value it measures on one window."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from vigil.api.specs import ModelSpec
from vigil.monitor.specs import (
    AnyBaseline,
    LearnedThreshold,
    MonitorView,
    StaticThreshold,
    TrailingBaseline,
)
from vigil.monitor.windows import Window
from vigil.profile import DatasetProfile

if TYPE_CHECKING:
    from vigil.store.core import Store


DRIFT_GAUGES = (
    "vigil_drift_share",
    "vigil_drift_statistic",
    "vigil_drift_p_value",
    "vigil_drift_detected",
)
"""The gauges of a kind that measures per-column drift (see `MonitorKind.gauges`)."""


class KindOptions(BaseModel):
    """Options of a kind (`Monitor.options`); each kind subclasses it."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Measurement:
    """A kind's statistic on one window; `value` None means there was nothing to measure."""

    value: float | None
    message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What a kind measures with: the monitor, its model's spec and the reference profile."""

    monitor: MonitorView
    model: ModelSpec
    reference: DatasetProfile | None
    first_data: dt.datetime | None = None
    """Start of the model's earliest stored window (None: it never logged anything)."""
    store: Store | None = None
    """The store, for kinds that read more than the window (the registry, KPIs)."""


class MonitorKind(ABC):
    """A kind of monitor: one module, one subclass, one registration line in `kinds/__init__.py`.

    `measure` returns the statistic of one window; the threshold decides whether it breaches.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    options_model: ClassVar[type[KindOptions]] = KindOptions
    needs_reference: ClassVar[bool] = False
    """Whether `measure` compares with the baseline's merged profile."""
    needs_profile: ClassVar[bool] = True
    """Whether `measure` reads the window's profile (False: row counts only)."""
    default_threshold: ClassVar[StaticThreshold | LearnedThreshold]
    default_baseline: ClassVar[AnyBaseline] = TrailingBaseline(windows=24)
    cacheable: ClassVar[bool] = False
    """Whether `measure` reads nothing but the window, the reference, the monitor, the model's
    spec and `first_data`: then the evaluation keeps its values between ticks, keyed by those
    inputs (`vigil.monitor.caches`). False for kinds that read the store (labels, KPIs, the
    registry), whose values change with data the keys do not name."""
    gauges: ClassVar[tuple[str, ...]] = ()
    """The Prometheus gauges its latest measurement feeds at /metrics (`vigil.monitor.gauges`):
    a drift kind's value is the share of drifted columns and its details hold each column's test
    (`details["columns"]`), exported as DRIFT_GAUGES and drawn as the dashboard's drift cells."""
    onset: ClassVar[bool] = False
    """Whether an alert of this kind, when it opens, says when the change of the monitor's own
    series of values most likely began (`vigil.analysis.onset`): True for the kinds whose value
    is a level that shifts (KPIs, performance, drift scores)."""
    degrades_model: ClassVar[bool] = True
    """The event mapping: whether an alert of this kind opening on the `@production` version
    also publishes `model.degraded` (False for infrastructure kinds: no data, volume,
    frequency, which say nothing of the model's quality)."""

    def options(self, monitor: MonitorView) -> Any:
        try:
            return self.options_model(**monitor.options)
        except ValidationError as exc:
            raise ValueError(
                f"invalid options for a {self.name!r} monitor: {exc.errors()[0]['msg']} "
                f"at {'.'.join(str(p) for p in exc.errors()[0]['loc'])}"
            ) from None

    def check(self, monitor: MonitorView) -> None:
        """Validate the monitor's options for this kind (raise ValueError)."""
        self.options(monitor)

    @abstractmethod
    def measure(self, context: Context, window: Window) -> Measurement: ...

    def arrivals(
        self, context: Context, evaluated: Mapping[dt.datetime, dt.datetime]
    ) -> dict[dt.datetime, dt.datetime]:
        """Latest arrival, per evaluated window start, of data the kind reads besides the
        window's profiles (labels), for windows that received some since `evaluated[start]`
        (when each was last evaluated). Such windows are re-evaluated like late profiles."""
        return {}


def missing_share(profile: DatasetProfile, column: str) -> float | None:
    """The share of missing values (nulls, and NaN for numbers) of `column`, None if absent."""
    col = profile.columns.get(column)
    if col is None or col.count == 0:
        return None
    missing = getattr(col, "missing_count", col.null_count)
    return float(missing) / float(col.count)
