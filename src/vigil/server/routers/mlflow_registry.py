"""MLflow's model registry REST API (`/api/2.0/mlflow/registered-models/...` and
`/model-versions/...`): registered models, versions, tags, aliases and download URIs. Thin: each
route calls `vigil.server.mlflow.registry_api.MlflowRegistry`."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vigil.server.deps import ReadAccess, SettingsDep, StoreDep, WriteAccess
from vigil.server.mlflow.registry_api import MlflowRegistry
from vigil.server.routers.mlflow_common import PREFIXES, MlflowRoute, Payload, answer

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

Call = Callable[[MlflowRegistry, Payload], dict[str, object]]

# (method, path, needs write, what it calls)
_CALLS: list[tuple[str, str, bool, Call]] = [
    ("POST", "/registered-models/create", True, MlflowRegistry.create_registered_model),
    ("GET", "/registered-models/get", False, MlflowRegistry.get_registered_model),
    ("POST", "/registered-models/rename", True, MlflowRegistry.rename_registered_model),
    ("PATCH", "/registered-models/update", True, MlflowRegistry.update_registered_model),
    ("DELETE", "/registered-models/delete", True, MlflowRegistry.delete_registered_model),
    ("GET", "/registered-models/search", False, MlflowRegistry.search_registered_models),
    ("POST", "/registered-models/get-latest-versions", False, MlflowRegistry.get_latest_versions),
    ("GET", "/registered-models/get-latest-versions", False, MlflowRegistry.get_latest_versions),
    ("POST", "/registered-models/set-tag", True, MlflowRegistry.set_registered_model_tag),
    ("DELETE", "/registered-models/delete-tag", True, MlflowRegistry.delete_registered_model_tag),
    ("POST", "/registered-models/alias", True, MlflowRegistry.set_alias),
    ("DELETE", "/registered-models/alias", True, MlflowRegistry.delete_alias),
    ("GET", "/registered-models/alias", False, MlflowRegistry.get_by_alias),
    ("POST", "/model-versions/create", True, MlflowRegistry.create_model_version),
    ("GET", "/model-versions/get", False, MlflowRegistry.get_model_version),
    ("PATCH", "/model-versions/update", True, MlflowRegistry.update_model_version),
    ("DELETE", "/model-versions/delete", True, MlflowRegistry.delete_model_version),
    ("GET", "/model-versions/search", False, MlflowRegistry.search_model_versions),
    ("GET", "/model-versions/get-download-uri", False, MlflowRegistry.get_download_uri),
    ("POST", "/model-versions/set-tag", True, MlflowRegistry.set_model_version_tag),
    ("DELETE", "/model-versions/delete-tag", True, MlflowRegistry.delete_model_version_tag),
    ("POST", "/model-versions/transition-stage", True, MlflowRegistry.transition_stage),
]


def _read_route(call: Call) -> Callable[..., JSONResponse]:
    def endpoint(
        principal: ReadAccess, body: Payload, store: StoreDep, settings: SettingsDep
    ) -> JSONResponse:
        registry = MlflowRegistry(store, principal.actor, limits=settings.archive_limits)
        return answer(call(registry, body))

    return endpoint


def _write_route(call: Call) -> Callable[..., JSONResponse]:
    def endpoint(
        principal: WriteAccess, body: Payload, store: StoreDep, settings: SettingsDep
    ) -> JSONResponse:
        registry = MlflowRegistry(store, principal.actor, limits=settings.archive_limits)
        return answer(call(registry, body))

    return endpoint


for _prefix in PREFIXES:
    for _method, _path, _write, _call in _CALLS:
        router.add_api_route(
            _prefix + _path,
            (_write_route if _write else _read_route)(_call),
            methods=[_method],
            name=f"mlflow {_method} {_path}",
        )
