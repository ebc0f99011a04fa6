"""New categories: the largest share of a window's rows whose category the baseline never saw."""

from __future__ import annotations

from pydantic import Field

from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.specs import StaticThreshold
from vigil.monitor.windows import Window


class NewCategoryOptions(KindOptions):
    columns: tuple[str, ...] | None = None
    """Categorical columns watched (default: the model's features that are categorical)."""
    min_rows: int = Field(default=1, ge=1)


class NewCategories(MonitorKind):
    name = "new_categories"
    cacheable = True
    description = "Largest share of rows with a category absent from the baseline."
    options_model = NewCategoryOptions
    needs_reference = True
    default_threshold = StaticThreshold(upper=0.0)

    def measure(self, context: Context, window: Window) -> Measurement:
        options: NewCategoryOptions = self.options(context.monitor)
        if window.n_rows < options.min_rows:
            return Measurement(None, f"{window.n_rows} rows, fewer than {options.min_rows}")
        reference = context.reference
        assert reference is not None
        current = window.profile
        shares: dict[str, float] = {}
        new_values: dict[str, list[str]] = {}
        skipped: list[str] = []
        for name in options.columns or tuple(context.model.features):
            ref_col, cur_col = reference.columns.get(name), current.columns.get(name)
            ref_cats = getattr(ref_col, "categories", None)
            cur_cats = getattr(cur_col, "categories", None)
            if ref_cats is None or cur_cats is None:
                continue
            known, seen = ref_cats.exact, cur_cats.exact
            if known is None or seen is None or cur_cats.total == 0:
                skipped.append(name)  # too many distinct values to be exact
                continue
            new = {v: n for v, n in seen.items() if v not in known}
            shares[name] = sum(new.values()) / cur_cats.total
            new_values[name] = sorted(new, key=lambda v: -new[v])[:20]
        if not shares:
            return Measurement(None, "no categorical column to compare", {"skipped": skipped})
        worst = max(shares, key=lambda c: shares[c])
        return Measurement(
            shares[worst],
            f"{shares[worst]:.1%} of {worst!r} are new categories {new_values[worst][:5]}",
            {"new_share": shares, "new_values": new_values, "skipped": skipped},
        )
