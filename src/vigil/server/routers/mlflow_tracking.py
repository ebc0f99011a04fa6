"""MLflow's tracking REST API (`/api/2.0/mlflow/...`, and `/ajax-api/2.0/mlflow/...` as MLflow's
own server also answers): experiments, runs, params, metrics, tags, batch logging, metric
history, search and MLflow 3's logged models. Thin: each route calls
`vigil.server.mlflow.tracking_api.MlflowTracking`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from vigil.server.deps import ReadAccess, StoreDep, WriteAccess
from vigil.server.mlflow.tracking_api import MlflowTracking
from vigil.server.routers.mlflow_common import PREFIXES, MlflowRoute, Payload, answer

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

Reader = Callable[[MlflowTracking, Payload], dict[str, object]]

# (method, path, what it calls); GETs need a read token, the rest a write token.
_CALLS: list[tuple[str, str, Reader]] = [
    ("POST", "/experiments/create", MlflowTracking.create_experiment),
    ("GET", "/experiments/get", MlflowTracking.get_experiment),
    ("GET", "/experiments/get-by-name", MlflowTracking.get_experiment_by_name),
    ("POST", "/experiments/search", MlflowTracking.search_experiments),
    ("GET", "/experiments/search", MlflowTracking.search_experiments),
    ("POST", "/experiments/update", MlflowTracking.update_experiment),
    ("POST", "/experiments/delete", lambda t, b: t.set_experiment_lifecycle(b, "deleted")),
    ("POST", "/experiments/restore", lambda t, b: t.set_experiment_lifecycle(b, "active")),
    ("POST", "/experiments/set-experiment-tag", MlflowTracking.set_experiment_tag),
    ("POST", "/experiments/delete-experiment-tag", MlflowTracking.delete_experiment_tag),
    ("POST", "/runs/create", MlflowTracking.create_run),
    ("GET", "/runs/get", MlflowTracking.get_run),
    ("POST", "/runs/update", MlflowTracking.update_run),
    ("POST", "/runs/delete", lambda t, b: t.set_run_lifecycle(b, "deleted")),
    ("POST", "/runs/restore", lambda t, b: t.set_run_lifecycle(b, "active")),
    ("POST", "/runs/log-metric", MlflowTracking.log_metric),
    ("POST", "/runs/log-parameter", MlflowTracking.log_param),
    ("POST", "/runs/set-tag", MlflowTracking.set_tag),
    ("POST", "/runs/delete-tag", MlflowTracking.delete_tag),
    ("POST", "/runs/log-batch", MlflowTracking.log_batch),
    ("POST", "/runs/log-inputs", MlflowTracking.log_inputs),
    ("POST", "/runs/outputs", MlflowTracking.log_outputs),
    ("POST", "/runs/search", MlflowTracking.search_runs),
    ("GET", "/metrics/get-history", MlflowTracking.get_metric_history),
    ("GET", "/metrics/get-history-bulk-interval", MlflowTracking.get_metric_history_bulk_interval),
    ("POST", "/logged-models", MlflowTracking.create_logged_model),
    ("POST", "/logged-models/search", MlflowTracking.search_logged_models),
]


def _read_route(call: Reader) -> Callable[..., JSONResponse]:
    def endpoint(principal: ReadAccess, body: Payload, store: StoreDep) -> JSONResponse:
        return answer(call(MlflowTracking(store, principal.actor), body))

    return endpoint


def _write_route(call: Reader) -> Callable[..., JSONResponse]:
    def endpoint(principal: WriteAccess, body: Payload, store: StoreDep) -> JSONResponse:
        return answer(call(MlflowTracking(store, principal.actor), body))

    return endpoint


for _prefix in PREFIXES:
    for _method, _path, _call in _CALLS:
        _read = _method == "GET" or _path.endswith(("/search", "/get-by-name"))
        router.add_api_route(
            _prefix + _path,
            (_read_route if _read else _write_route)(_call),
            methods=[_method],
            name=f"mlflow {_method} {_path}",
        )


ModelId = Annotated[str, Path(min_length=1, max_length=64)]


for _prefix in PREFIXES:

    @router.get(_prefix + "/logged-models/{model_id}")
    def get_logged_model(principal: ReadAccess, model_id: ModelId, store: StoreDep) -> JSONResponse:
        return answer(MlflowTracking(store, principal.actor).get_logged_model(model_id))

    @router.patch(_prefix + "/logged-models/{model_id}")
    def finalize_logged_model(
        principal: WriteAccess, model_id: ModelId, body: Payload, store: StoreDep
    ) -> JSONResponse:
        tracking = MlflowTracking(store, principal.actor)
        return answer(tracking.finalize_logged_model(model_id, body))

    @router.delete(_prefix + "/logged-models/{model_id}")
    def delete_logged_model(
        principal: WriteAccess, model_id: ModelId, store: StoreDep
    ) -> JSONResponse:
        return answer(MlflowTracking(store, principal.actor).delete_logged_model(model_id))

    @router.patch(_prefix + "/logged-models/{model_id}/tags")
    def set_logged_model_tags(
        principal: WriteAccess, model_id: ModelId, body: Payload, store: StoreDep
    ) -> JSONResponse:
        tracking = MlflowTracking(store, principal.actor)
        return answer(tracking.set_logged_model_tags(model_id, body))

    @router.delete(_prefix + "/logged-models/{model_id}/tags/{tag_key}")
    def delete_logged_model_tag(
        principal: WriteAccess,
        model_id: ModelId,
        tag_key: Annotated[str, Path(max_length=250)],
        store: StoreDep,
    ) -> JSONResponse:
        tracking = MlflowTracking(store, principal.actor)
        return answer(tracking.delete_logged_model_tag(model_id, tag_key))
