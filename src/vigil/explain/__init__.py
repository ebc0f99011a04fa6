"""Explainability: why the model decides, globally and per prediction, and how that changes.

`vigil.explain` is this package and is callable: `vigil.explain(model_ref, rows)` is
`vigil.explain.local.explain` (per-prediction SHAP contributions and the base value).

>>> e = vigil.explain("models:/churn@production", rows)                  # doctest: +SKIP
>>> imp = vigil.explain.permutation_importance(model, X, y, metric="roc_auc")  # doctest: +SKIP
>>> vigil.explain.log_importance(imp, run=run)                            # doctest: +SKIP

Names are imported on first use: SHAP, pandas and the store load only when needed.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.analysis.explain.permutation import permutation_importance
    from vigil.analysis.explain.results import Explanation, Importance
    from vigil.explain.api import get_importance, log_importance, shap_importance
    from vigil.explain.local import resolve_model
    from vigil.explain.production import attribution_windows, log_attributions
    from vigil.importances.store import load_importances, save_importances

_LAZY = {
    "Explanation": "vigil.analysis.explain.results",
    "Importance": "vigil.analysis.explain.results",
    "attribution_windows": "vigil.explain.production",
    "get_importance": "vigil.explain.api",
    "load_importances": "vigil.importances.store",
    "log_attributions": "vigil.explain.production",
    "log_importance": "vigil.explain.api",
    "permutation_importance": "vigil.analysis.explain.permutation",
    "resolve_model": "vigil.explain.local",
    "save_importances": "vigil.importances.store",
    "shap_importance": "vigil.explain.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vigil.explain' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


class _ExplainModule(types.ModuleType):
    """The package, callable: `vigil.explain(model_ref, rows, **options)`."""

    def __call__(self, model_ref: Any, rows: Any, **options: Any) -> Explanation:
        from vigil.explain.local import explain as explain_rows

        return explain_rows(model_ref, rows, **options)


sys.modules[__name__].__class__ = _ExplainModule
explain = sys.modules[__name__]
"""This package itself, so that `from vigil.explain import explain` and `vigil.explain` (which
`vigil`'s lazy exports fetch as `vigil.explain.explain`) are the same callable."""

__all__ = [
    "Explanation",
    "Importance",
    "attribution_windows",
    "explain",
    "get_importance",
    "load_importances",
    "log_attributions",
    "log_importance",
    "permutation_importance",
    "resolve_model",
    "save_importances",
    "shap_importance",
]
