"""Attribution drift: how far the features' shares of production attributions (mean |SHAP| of
the rows explained at log time, `vigil.explain.log_attributions`) moved from the training
reference importances of the registered model version.

The statistic is the total variation distance between the two share vectors,
`0.5 * sum(|p_f - q_f|)` over the union of features: 0 when the model relies on its features in
the same proportions as in training, 1 when on entirely different ones. It is the share of the
attribution mass that moved. The reference is the version's importances logged with the same
method as the production windows (`shap` by default), or those of the run that produced it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vigil.analysis.explain.results import shares
from vigil.errors import VigilError
from vigil.importances.store import combine, read_attributions
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.specs import StaticThreshold
from vigil.monitor.trained import importances
from vigil.monitor.versions import trained_version
from vigil.monitor.windows import Window
from vigil.registry.service import Registry
from vigil.store.repositories import ModelRepository


class AttributionDriftOptions(KindOptions):
    registry_model: str | None = Field(default=None, max_length=200)
    """The registered model whose importances are the reference (default: the monitored
    model's `registry_model`)."""
    version: int | None = Field(default=None, ge=1)
    """The reference version; default: the target's version when it is a number, else the
    version `alias` points at."""
    alias: str = Field(default="production", max_length=200)
    method: str | None = Field(default=None, max_length=100)
    """The reference importances' method (default: the production windows' method)."""
    min_rows: int = Field(default=30, ge=1)
    """Windows with fewer explained rows are not measured."""


def total_variation(current: dict[str, float], reference: dict[str, float]) -> float:
    """0.5 * sum |p - q| of the two vectors' shares of their totals (features of either)."""

    p, q = shares(current), shares(reference)
    return 0.5 * sum(abs(p.get(f, 0.0) - q.get(f, 0.0)) for f in set(p) | set(q))


class AttributionDrift(MonitorKind):
    name = "attribution_drift"
    description = (
        "Total variation distance between the features' shares of production attributions "
        "and of the training reference importances."
    )
    options_model = AttributionDriftOptions
    needs_profile = False
    default_threshold = StaticThreshold(upper=0.2)
    onset = True

    def measure(self, context: Context, window: Window) -> Measurement:
        options: AttributionDriftOptions = self.options(context.monitor)
        if context.store is None:
            return Measurement(None, "attribution drift reads the store; none was given")

        target_version = context.monitor.target.version
        with context.store.read_session() as session:
            model_id = ModelRepository(session).get(context.model.name).id
            windows = read_attributions(
                session, model_id, version=target_version, start=window.start, end=window.end
            )
            session.rollback()
        n_rows, sums, methods = combine(windows)
        if n_rows < options.min_rows:
            return Measurement(
                None, f"{n_rows} explained rows in the window, fewer than {options.min_rows}"
            )
        if len(methods) > 1:
            return Measurement(None, f"the window mixes attribution methods {sorted(methods)}")
        method = options.method or next(iter(methods))
        reference, where = self._reference(context, options, method, target_version)
        if reference is None:
            return Measurement(None, where)

        current = {k: v / n_rows for k, v in sums.items()}
        p, q = shares(current), shares(reference)
        gaps = {f: abs(p.get(f, 0.0) - q.get(f, 0.0)) for f in set(p) | set(q)}
        distance = 0.5 * sum(gaps.values())
        moved = sorted(gaps, key=lambda f: -gaps[f])
        details: dict[str, Any] = {
            "reference": where,
            "method": method,
            "n_rows": n_rows,
            "current_mean_abs": current,
            "reference_importance": reference,
            "most_moved": moved[:5],
        }
        return Measurement(
            distance,
            f"{distance:.1%} of the attribution moved against {where} "
            f"(most: {', '.join(moved[:3])}; {n_rows} explained rows)",
            details,
        )

    @staticmethod
    def _reference(
        context: Context,
        options: AttributionDriftOptions,
        method: str,
        target_version: str | None,
    ) -> tuple[dict[str, float] | None, str]:

        assert context.store is not None
        name = options.registry_model or context.model.registry_model
        if name is None:
            return None, (
                f"model {context.model.name!r} names no registry_model; set the option "
                "registry_model"
            )
        version = options.version
        if version is None and target_version is not None and target_version.isdigit():
            version = int(target_version)
        try:
            if version is None:
                version = (
                    Registry(context.store, actor="vigil").get_alias(name, options.alias).version
                )
            trained = trained_version(context.store, name, version)
            found = importances(context.store, trained, method)
            reference = found[0] if found else None
        except VigilError as exc:
            return None, f"no reference importances: {exc.message}"
        where = f"{name} version {version}"
        if reference is None:
            return None, f"{where} (and its run) has no {method} importances logged"
        return reference, where
