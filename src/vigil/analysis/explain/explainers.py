"""The SHAP explainers by name (`algorithm=`): one module each, one registration line here.

A new explainer is a module with an `explain(job)` function and an `Explainer` entry, and one
line below; `shap_explain` dispatches through this registry and the contract test in
tests/test_registries.py runs over every entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from vigil.analysis.explain import shap_kernel, shap_linear, shap_tree
from vigil.analysis.explain.shap_common import Explainer
from vigil.errors import InvalidInputError

EXPLAINERS: Mapping[str, Explainer] = MappingProxyType(
    {
        shap_tree.EXPLAINER.name: shap_tree.EXPLAINER,
        shap_linear.EXPLAINER.name: shap_linear.EXPLAINER,
        shap_kernel.EXPLAINER.name: shap_kernel.EXPLAINER,
    }
)


def known_names() -> str:
    """`'tree', 'linear' or 'kernel'`: the names, for messages."""
    names = [repr(name) for name in EXPLAINERS]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def get_explainer(name: str) -> Explainer:
    """The explainer registered as `name`; InvalidInputError naming it and the known ones."""
    explainer = EXPLAINERS.get(name) if isinstance(name, str) else None
    if explainer is None:
        raise InvalidInputError(
            f"explainer {name!r} is not known; use {known_names()}", algorithm=str(name)
        )
    return explainer
