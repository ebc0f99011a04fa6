"""Per-prediction explanations: `vigil.explain(model_ref, rows)`.

>>> e = vigil.explain("models:/churn@production", rows)                  # doctest: +SKIP
>>> e.base_value + e.contributions[0].sum() == e.output[0]   # within 1e-6    # doctest: +SKIP
>>> e.to_html("why.html")                                                  # doctest: +SKIP

`model_ref` is a model URI (`models:/NAME/VERSION`, `models:/NAME@ALIAS`,
`models:/NAME/latest`), a registry version (`ModelVersionInfo`), or a fitted model object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vigil.analysis.explain.inputs import OutputSpace, as_frame, check_model, select_features
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.shap_backend import (
    DEFAULT_BACKGROUND_SIZE,
    AlgorithmChoice,
    shap_explain,
)
from vigil.errors import InvalidInputError
from vigil.registry.safe_load import SERVER_TRUSTED_TYPES
from vigil.registry.types import ModelVersionInfo

if TYPE_CHECKING:
    from vigil.store.core import Store


TREE_TYPES = tuple(sorted(SERVER_TRUSTED_TYPES))
"""Trusted when a skops artifact is loaded for explaining: scikit-learn's tree structures, rebuilt
from their arrays of nodes and values (skops lists them as untrusted because they are compiled
code or not in its list, so every tree ensemble would otherwise need `trusted=`)."""


def resolve_model(
    model_ref: Any,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
    trusted: Sequence[str] | None = None,
) -> tuple[Any, str | None]:
    """The model object `model_ref` names, and its URI when it came from the registry."""
    if isinstance(model_ref, ModelVersionInfo):
        model_ref = model_ref.uri
    if isinstance(model_ref, str):
        from vigil.client.registry import api as models

        models.parse_uri(model_ref)  # a bad URI is refused before any store is opened
        loaded = models.load(
            model_ref, trusted=[*TREE_TYPES, *(trusted or ())], store=store, url=url, token=token
        )
        if not (hasattr(loaded, "predict") or hasattr(loaded, "predict_proba")):
            raise InvalidInputError(
                f"{model_ref} is stored as files ({type(loaded).__name__}), not a model object "
                "Vigil can call; register the fitted model object to explain it",
                model=model_ref,
            )
        return loaded, model_ref
    check_model(model_ref)
    return model_ref, None


def explain(
    model_ref: Any,
    rows: Any,
    *,
    features: Sequence[str] | None = None,
    algorithm: AlgorithmChoice = "auto",
    output: OutputSpace | None = None,
    target: Any = None,
    background: Any = None,
    background_size: int = DEFAULT_BACKGROUND_SIZE,
    kernel_samples: int | None = None,
    seed: int = 0,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
    trusted: Sequence[str] | None = None,
    progress: bool | None = None,
) -> Explanation:
    """Each feature's SHAP contribution to each row's prediction, and the base value.

    `rows` is a pandas or polars DataFrame, a pyarrow Table, a mapping of columns, a list of
    row mappings, or a 2-D array (with `features=` naming its columns). Columns the model does
    not use are ignored; missing ones are an error naming them. For a classifier, `target` is
    the class explained (default: the positive class of a binary model) and `output` the space
    (see `vigil.analysis.explain.shap_backend`): the tree and linear explainers add up to the log-odds
    margin of a boosted or linear classifier, the kernel explainer to the probability.
    `background` (e.g. a sample of the training data) sets the base value of the linear and
    kernel explainers; by default a seeded sample of `rows` is used. The kernel explainer shows
    a bar of its rows when a person is watching (`vigil.progress`; `progress=False` hides it).
    """
    model, uri = resolve_model(model_ref, store=store, url=url, token=token, trusted=trusted)
    explanation = explain_model(
        model,
        rows,
        features=features,
        algorithm=algorithm,
        output=output,
        target=target,
        background=background,
        background_size=background_size,
        kernel_samples=kernel_samples,
        seed=seed,
        progress=progress,
    )
    if uri is not None:
        return dataclasses.replace(explanation, details={**explanation.details, "model": uri})
    return explanation


def explain_model(
    model: Any,
    rows: Any,
    *,
    features: Sequence[str] | None = None,
    algorithm: AlgorithmChoice = "auto",
    output: OutputSpace | None = None,
    target: Any = None,
    background: Any = None,
    background_size: int = DEFAULT_BACKGROUND_SIZE,
    kernel_samples: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Explanation:
    """`explain` for a model object already in memory: nothing is resolved or loaded (the
    server explains only models its safe loader gave it, `vigil.registry.safe_load`)."""
    check_model(model)
    frame = select_features(as_frame(rows, features), model, features)
    return shap_explain(
        model,
        frame,
        algorithm=algorithm,
        output=output,
        target=target,
        background=background,
        background_size=background_size,
        kernel_samples=kernel_samples,
        seed=seed,
        progress=progress,
    )
