"""Global importance, logged where it belongs: to a training run and to a model version.

>>> imp = vigil.explain.permutation_importance(model, X_valid, y_valid, metric="roc_auc")
>>> vigil.explain.log_importance(imp, run=run)                            # doctest: +SKIP
>>> shap_imp = vigil.explain.shap_importance(model, X_valid)               # mean |SHAP|
>>> vigil.explain.log_importance(shap_imp, model_version="models:/churn/3")  # doctest: +SKIP

Each function works on the embedded store (`store=`, else the one in the settings) or on a
Vigil server (`url=`, `token=`); a run started against a server logs through its own connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from vigil.analysis.explain.inputs import OutputSpace, as_frame, select_features
from vigil.analysis.explain.results import Importance
from vigil.analysis.explain.shap_backend import (
    DEFAULT_BACKGROUND_SIZE,
    AlgorithmChoice,
    shap_explain,
)
from vigil.errors import InvalidInputError
from vigil.explain.local import resolve_model
from vigil.importances.store import check_importance_values, check_method
from vigil.registry.types import ModelVersionInfo

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.client.tracking.run import Run
    from vigil.store.core import Store

ModelVersionRef = ModelVersionInfo | str | tuple[str, int]
"""A model version: a `ModelVersionInfo`, a URI (`models:/churn/3`, `models:/churn@production`)
or a (name, version) pair."""


def shap_importance(
    model_ref: Any,
    rows: Any,
    *,
    features: Sequence[str] | None = None,
    algorithm: AlgorithmChoice = "auto",
    output: OutputSpace | None = None,
    target: Any = None,
    background: Any = None,
    background_size: int = DEFAULT_BACKGROUND_SIZE,
    max_rows: int | None = 2000,
    seed: int = 0,
    store: Store | None = None,
    progress: bool | None = None,
) -> Importance:
    """Mean |SHAP value| per feature over `rows` (a seeded sample of `max_rows` of them; None
    for all)."""
    model, _ = resolve_model(model_ref, store=store)
    frame = select_features(as_frame(rows, features), model, features)
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    explanation = shap_explain(
        model,
        frame,
        algorithm=algorithm,
        output=output,
        target=target,
        background=background,
        background_size=background_size,
        seed=seed,
        progress=progress,
    )
    imp = explanation.importance()
    return Importance(
        imp.method,
        imp.values,
        details={**imp.details, "output_space": explanation.output_space, "seed": seed},
    )


@contextmanager
def _local_store(store: Store | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    from vigil.config import StoreSettings
    from vigil.store.core import Store as StoreClass

    settings = StoreSettings()
    opened = StoreClass.open(settings.store_url, settings.artifacts_url)
    try:
        yield opened
    finally:
        opened.close()


def _version_key(store: Store | None, ref: ModelVersionRef) -> tuple[str, int]:
    if isinstance(ref, ModelVersionInfo):
        return ref.name, ref.version
    if isinstance(ref, tuple) and len(ref) == 2:
        return str(ref[0]), int(ref[1])
    if isinstance(ref, str):
        from vigil.client.registry import api as models

        parsed = models.parse_uri(ref)
        if parsed.version is not None:
            return parsed.name, parsed.version
        if store is None:
            raise InvalidInputError(
                f"{ref!r} names an alias or 'latest'; give models:/NAME/VERSION when logging "
                "to a server"
            )
        from vigil.client.registry.api import resolve

        return parsed.name, resolve(ref, store=store).version
    raise InvalidInputError(
        f"model version {ref!r} is not valid; give a ModelVersionInfo, a models:/ URI or a "
        "(name, version) pair"
    )


def _values(
    importance: Importance | Mapping[str, float], method: str | None
) -> tuple[str, dict[str, float]]:
    if isinstance(importance, Importance):
        return check_method(method or importance.method), check_importance_values(importance.values)
    if method is None:
        raise InvalidInputError(
            "give method= (e.g. 'permutation', 'shap', 'gain') with a plain mapping of importances"
        )
    return check_method(method), check_importance_values(importance)


def _run_target(run: Run | str | None) -> tuple[str | None, Store | None, VigilApi | None]:
    """The run id, and the run's own store or server connection (for a `Run` object)."""
    if run is None or isinstance(run, str):
        return run, None, None
    from vigil.client.tracking.remote import RemoteTracking
    from vigil.client.transport import HttpTransport
    from vigil.tracking.service import TrackingService

    service = run.service
    if isinstance(service, RemoteTracking) and isinstance(service.transport, HttpTransport):
        return run.id, None, service.transport.api
    if isinstance(service, TrackingService):
        return run.id, service.store, None
    raise InvalidInputError(f"run {run.id} logs to an unknown backend {type(service).__name__}")


def log_importance(
    importance: Importance | Mapping[str, float],
    *,
    method: str | None = None,
    run: Run | str | None = None,
    model_version: ModelVersionRef | None = None,
    actor: str = "",
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> None:
    """Record global importances for a training run (a `Run` or its id) and/or a model version.

    `importance` is an `Importance` (from `permutation_importance` or `shap_importance`) or a
    mapping feature -> value (e.g. a model's own `feature_importances_`) with `method=`.
    """
    method_name, values = _values(importance, method)
    if run is None and model_version is None:
        raise InvalidInputError("give run= (a run or its id) and/or model_version= to log to")
    run_id, run_store, api = _run_target(run)
    if url is not None or api is not None:
        _log_remote(run_id, model_version, method_name, values, url, token, api)
        return
    with _local_store(run_store or store) as opened:
        _log_local(opened, run_id, model_version, method_name, values, actor)


def _log_local(
    store: Store,
    run_id: str | None,
    model_version: ModelVersionRef | None,
    method: str,
    values: dict[str, float],
    actor: str,
) -> None:
    from vigil.importances.store import model_version_id, save_importances

    version_id = None
    if model_version is not None:
        name, number = _version_key(store, model_version)
        with store.session() as session:
            version_id = model_version_id(session, name, number)
    with store.session() as session:
        save_importances(
            session,
            run_id=run_id,
            model_version_id=version_id,
            method=method,
            values=values,
            actor=actor,
        )
        session.commit()


def _log_remote(
    run_id: str | None,
    model_version: ModelVersionRef | None,
    method: str,
    values: dict[str, float],
    url: str | None,
    token: str | None,
    api: VigilApi | None,
) -> None:
    body = {"method": method, "values": values}
    version = _version_key(None, model_version) if model_version is not None else None
    created = None
    if url is not None:
        from vigil.api.client import VigilApi

        api = created = VigilApi(url, token, retries=3)
    # Otherwise the run's own connection to its server (its URL and token).
    assert api is not None
    try:
        if run_id is not None:
            api.explain.log_run_importances(run_id, body)
        if version is not None:
            api.explain.log_version_importances(version[0], version[1], body)
    finally:
        if created is not None:
            created.close()


def get_importance(
    *,
    run: Run | str | None = None,
    model_version: ModelVersionRef | None = None,
    method: str | None = None,
    store: Store | None = None,
) -> dict[str, float] | None:
    """The latest importances logged for a run or a model version (None when none were)."""
    from vigil.importances.store import load_importances, model_version_id

    run_id, run_store, api = _run_target(run)
    if api is not None:
        raise InvalidInputError(
            "this run logs to a Vigil server; read its importances there "
            "(the run's importances route, or its page on the dashboard)"
        )
    with _local_store(run_store or store) as opened:
        version_id = None
        if model_version is not None:
            name, number = _version_key(opened, model_version)
            with opened.session() as session:
                version_id = model_version_id(session, name, number)
        with opened.session() as session:
            return load_importances(
                session, run_id=run_id, model_version_id=version_id, method=method
            )
