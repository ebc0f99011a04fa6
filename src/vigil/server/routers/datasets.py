"""Dataset versions over HTTP: the client sends the chunks the store lacks, then registers the
version (the server checks the full digest against the chunks); lineage links runs to versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from vigil.api.tracking import ChunkHashes, DatasetVersionIn, DatasetVersionOut, RunInputIn
from vigil.server.deps import BodyDep, ReadAccess, StoreDep, WriteAccess
from vigil.tracking.datasets import DatasetService

router = APIRouter(tags=["datasets"])

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.post("/api/v1/datasets/chunks/missing")
def missing_chunks(_: WriteAccess, body: ChunkHashes, store: StoreDep) -> ChunkHashes:
    """Which of these chunk hashes the store does not hold yet."""
    return ChunkHashes(hashes=DatasetService(store).missing_chunks(body.hashes))


@router.put("/api/v1/datasets/chunks/{digest}", status_code=status.HTTP_204_NO_CONTENT)
def put_chunk(_: WriteAccess, digest: Sha256, body: BodyDep, store: StoreDep) -> Response:
    """Store a chunk; 422 when the body's SHA-256 is not `digest`."""
    DatasetService(store).put_chunk(digest, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/v1/datasets/versions", status_code=status.HTTP_201_CREATED)
def register_version(
    principal: WriteAccess, body: DatasetVersionIn, store: StoreDep
) -> DatasetVersionOut:
    owner = principal.actor
    return DatasetService(store).register(body, owner=owner)


@router.get("/api/v1/datasets/versions")
def list_versions(
    _: ReadAccess,
    store: StoreDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
) -> list[DatasetVersionOut]:
    """Dataset versions; `actor=`: those this person added."""
    return DatasetService(store).versions(name, actor=actor)


@router.get("/api/v1/datasets/versions/{ref}")
def get_version(
    _: ReadAccess, ref: Annotated[str, Path(max_length=300)], store: StoreDep
) -> DatasetVersionOut:
    """`NAME`, `NAME@3` or `NAME@<digest prefix>`."""
    return DatasetService(store).get(ref)


@router.post("/api/v1/runs/{run_id}/inputs", status_code=status.HTTP_204_NO_CONTENT)
def link_input(
    _: WriteAccess,
    run_id: Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]+$")],
    body: RunInputIn,
    store: StoreDep,
) -> Response:
    """Record that the run used the dataset version (lineage)."""
    DatasetService(store).link_run(run_id, body.dataset_version_id, body.context)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
