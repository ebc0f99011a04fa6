"""MLflow's proxied artifact API (`/api/2.0/mlflow-artifacts/artifacts/...`): upload, download,
list and delete, on Vigil's artifact store (see `vigil.server.mlflow.artifacts_api`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from vigil.server.deps import BodyDep, ReadAccess, SettingsDep, StoreDep, WriteAccess
from vigil.server.mlflow.artifacts_api import MlflowArtifacts
from vigil.server.params import BINARY_ANSWER
from vigil.server.routers.mlflow_common import MlflowRoute, answer

router = APIRouter(route_class=MlflowRoute, tags=["mlflow"])

ROOT = "/api/2.0/mlflow-artifacts/artifacts"
ArtifactPath = Annotated[str, Path(min_length=1, max_length=1000)]


@router.put(ROOT + "/{artifact_path:path}")
async def upload(
    _: WriteAccess,
    artifact_path: ArtifactPath,
    body: BodyDep,
    store: StoreDep,
    settings: SettingsDep,
) -> JSONResponse:
    artifacts = MlflowArtifacts(store, limits=settings.archive_limits)
    await run_in_threadpool(artifacts.put, artifact_path, body)
    return answer({})


@router.get(ROOT + "/{artifact_path:path}", response_class=Response, responses=BINARY_ANSWER)
def download(
    _: ReadAccess, artifact_path: ArtifactPath, store: StoreDep, settings: SettingsDep
) -> Response:
    data = MlflowArtifacts(store, limits=settings.archive_limits).get(artifact_path)
    return Response(content=data, media_type="application/octet-stream")


@router.delete(ROOT + "/{artifact_path:path}")
def delete(_: WriteAccess, artifact_path: ArtifactPath, store: StoreDep) -> JSONResponse:
    MlflowArtifacts(store).delete(artifact_path)
    return answer({})


@router.get(ROOT)
def list_artifacts(
    _: ReadAccess,
    store: StoreDep,
    path: Annotated[str, Query(max_length=1000)] = "",
) -> JSONResponse:
    files = []
    for entry in MlflowArtifacts(store).list(path):
        item: dict[str, object] = {"path": entry.path, "is_dir": entry.is_dir}
        if entry.size is not None:
            item["file_size"] = entry.size
        files.append(item)
    return answer({"files": files})
