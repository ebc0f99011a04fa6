"""Missing values: the largest share of missing values among the watched columns."""

from __future__ import annotations

from pydantic import Field

from vigil.monitor.kinds.base import (
    Context,
    KindOptions,
    Measurement,
    MonitorKind,
    missing_share,
)
from vigil.monitor.specs import StaticThreshold
from vigil.monitor.windows import Window


class MissingOptions(KindOptions):
    columns: tuple[str, ...] | None = None
    """Columns watched (default: the model's features)."""
    min_rows: int = Field(default=1, ge=1)


class MissingValues(MonitorKind):
    name = "missing_values"
    cacheable = True
    description = "Largest share of missing values (null or NaN) among the watched columns."
    options_model = MissingOptions
    default_threshold = StaticThreshold(upper=0.2)

    def measure(self, context: Context, window: Window) -> Measurement:
        options: MissingOptions = self.options(context.monitor)
        if window.n_rows < options.min_rows:
            return Measurement(None, f"{window.n_rows} rows, fewer than {options.min_rows}")
        columns = options.columns or tuple(context.model.features)
        shares = {
            c: share for c in columns if (share := missing_share(window.profile, c)) is not None
        }
        if not shares:
            return Measurement(None, f"none of the columns {list(columns)} has values")
        worst = max(shares, key=lambda c: shares[c])
        return Measurement(
            shares[worst],
            f"{shares[worst]:.1%} of {worst!r} is missing",
            {"missing_share": shares},
        )
