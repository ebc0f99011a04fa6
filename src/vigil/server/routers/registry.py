"""The model registry over HTTP: `/api/v1/registry/...` (read scope for GETs, write for changes).

A version is registered in two requests: the artifact's bytes go to `POST .../uploads` (the
server chooses the key), then `POST .../models/{name}/versions` names the upload with the
version's metadata. Serving systems resolve an alias with `GET .../models/{name}/aliases/{alias}`
and download the artifact from the URL it returns.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from vigil.caps import MAX_TAGS
from vigil.errors import InvalidInputError, NotFoundError
from vigil.registry import Gates, Registry
from vigil.registry.packaging import packed_from_upload
from vigil.registry.types import (
    Lifecycle,
    ModelVersionInfo,
    RegisteredModelInfo,
    RegistryEventInfo,
)
from vigil.server.deps import (
    BodyDep,
    Principal,
    ReadAccess,
    SettingsDep,
    StoreDep,
    WriteAccess,
)
from vigil.server.params import VersionPath
from vigil.store.core import Store

router = APIRouter(tags=["registry"])

PREFIX = "/api/v1/registry"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadOut(BaseModel):
    upload_id: str
    size: int


class ModelIn(BaseModel):
    name: str = Field(max_length=200)
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS)


class TagsIn(BaseModel):
    tags: dict[str, str] = Field(max_length=MAX_TAGS)


class VersionIn(BaseModel):
    upload_id: str = Field(description="The id `POST /api/v1/registry/uploads` returned.")
    format: Literal["skops", "joblib", "file", "directory", "mlflow"]
    source_name: str = Field(default="", max_length=500)
    run_id: str | None = Field(default=None, max_length=64)
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS)
    metrics: dict[str, float] = Field(default_factory=dict, max_length=MAX_TAGS)
    model_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    profile_upload_id: str | None = Field(
        default=None, description="An upload holding the training DatasetProfile's bytes."
    )


class GatesIn(BaseModel):
    suite: str | None = Field(default=None, description="A validation suite as YAML text.")
    metric: str | None = None
    margin: float = 0.0
    mode: Literal["max", "min"] = "max"


class AliasIn(BaseModel):
    version: int = Field(ge=1)
    gates: GatesIn | None = None


class LifecycleIn(BaseModel):
    note: str = Field(default="", max_length=2000)


Actor = Annotated[str | None, Query(max_length=200, description="Only what this person did.")]


class AliasOut(BaseModel):
    model: str
    alias: str
    version: int
    source_format: str
    source_sha256: str
    source_size: int
    artifact_url: str = Field(description="Where to download the version's artifact.")
    model_version: dict[str, Any]


class AliasAtOut(BaseModel):
    model: str
    alias: str
    at: dt.datetime
    version: int | None


def _registry(store: Store, principal: Principal) -> Registry:
    return Registry(store, actor=principal.actor)


def _upload_key(upload_id: str) -> str:
    if not _UPLOAD_ID.match(upload_id):
        raise InvalidInputError(
            f"upload id {upload_id!r} is not one POST {PREFIX}/uploads returned",
            upload_id=upload_id,
        )
    return f"registry/uploads/{upload_id}"


def _read_upload(store: Store, upload_id: str) -> bytes:
    key = _upload_key(upload_id)
    if not store.artifacts.exists(key):
        raise NotFoundError(f"no upload {upload_id!r}; upload the bytes first", upload_id=upload_id)
    return store.artifacts.get(key)


def _artifact_url(name: str, version: int) -> str:
    return f"{PREFIX}/models/{name}/versions/{version}/artifact"


@router.post(f"{PREFIX}/uploads", status_code=status.HTTP_201_CREATED)
def upload(_: WriteAccess, body: BodyDep, store: StoreDep) -> UploadOut:
    """Store an artifact's bytes (the request body) under a key the server chooses."""
    upload_id = uuid.uuid4().hex
    store.artifacts.put(_upload_key(upload_id), body)
    return UploadOut(upload_id=upload_id, size=len(body))


@router.post(f"{PREFIX}/models", status_code=status.HTTP_201_CREATED)
def create_model(principal: WriteAccess, model: ModelIn, store: StoreDep) -> RegisteredModelInfo:
    """Create a registered model (or return the existing one)."""
    return _registry(store, principal).create_model(
        model.name, description=model.description, tags=model.tags
    )


@router.get(f"{PREFIX}/models")
def list_models(principal: ReadAccess, store: StoreDep) -> list[RegisteredModelInfo]:
    return _registry(store, principal).list_models()


@router.get(f"{PREFIX}/models/{{name}}")
def get_model(principal: ReadAccess, name: str, store: StoreDep) -> RegisteredModelInfo:
    return _registry(store, principal).get_model(name)


@router.put(f"{PREFIX}/models/{{name}}/tags")
def set_model_tags(
    principal: WriteAccess, name: str, tags: TagsIn, store: StoreDep
) -> RegisteredModelInfo:
    return _registry(store, principal).set_model_tags(name, tags.tags)


@router.post(f"{PREFIX}/models/{{name}}/versions", status_code=status.HTTP_201_CREATED)
def create_version(
    principal: WriteAccess, name: str, spec: VersionIn, store: StoreDep, settings: SettingsDep
) -> ModelVersionInfo:
    """Register the upload `upload_id` as the model's next version. A folder's tar.gz and a
    skops zip are checked member by member first (422 for a path outside the archive, a link
    out of it, a device or fifo; 413 past VIGIL_MAX_ARCHIVE_MEMBERS or _BYTES)."""
    from vigil.profile import DatasetProfile

    data = _read_upload(store, spec.upload_id)
    packed = packed_from_upload(data, spec.format, spec.source_name, settings.archive_limits)
    profile = None
    if spec.profile_upload_id is not None:
        profile = DatasetProfile.from_bytes(_read_upload(store, spec.profile_upload_id))
    info = _registry(store, principal).register_packed(
        name,
        packed,
        run_id=spec.run_id,
        schema=spec.model_schema,
        tags=spec.tags,
        description=spec.description,
        metrics=spec.metrics,
        profile=profile,
    )
    for upload_id in (spec.upload_id, spec.profile_upload_id):
        if upload_id is not None:
            store.artifacts.delete(_upload_key(upload_id))
    return info


@router.get(f"{PREFIX}/models/{{name}}/versions")
def list_versions(
    principal: ReadAccess,
    name: str,
    store: StoreDep,
    state: Lifecycle | None = None,
    actor: Actor = None,
) -> list[ModelVersionInfo]:
    """The model's versions, oldest first; `state=active|retired` and `actor=` filter them."""
    return _registry(store, principal).list_versions(name, state=state, actor=actor)


@router.post(f"{PREFIX}/models/{{name}}/versions/{{version}}/retire")
def retire_version(
    principal: WriteAccess,
    name: str,
    version: VersionPath,
    store: StoreDep,
    body: LifecycleIn | None = None,
) -> ModelVersionInfo:
    """Retire (archive) a version: kept with its history, refused an alias (409 while an alias
    points at it)."""
    note = body.note if body is not None else ""
    return _registry(store, principal).retire_version(name, version, note=note)


@router.post(f"{PREFIX}/models/{{name}}/versions/{{version}}/restore")
def restore_version(
    principal: WriteAccess,
    name: str,
    version: VersionPath,
    store: StoreDep,
    body: LifecycleIn | None = None,
) -> ModelVersionInfo:
    """Un-retire a version."""
    note = body.note if body is not None else ""
    return _registry(store, principal).restore_version(name, version, note=note)


@router.get(f"{PREFIX}/versions")
def versions_of_run(
    principal: ReadAccess,
    store: StoreDep,
    run_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> list[ModelVersionInfo]:
    """The model versions registered from a tracking run (lineage)."""
    return _registry(store, principal).versions_of_run(run_id)


@router.get(f"{PREFIX}/models/{{name}}/versions/{{version}}")
def get_version(
    principal: ReadAccess, name: str, version: VersionPath, store: StoreDep
) -> ModelVersionInfo:
    return _registry(store, principal).get_version(name, version)


@router.put(f"{PREFIX}/models/{{name}}/versions/{{version}}/tags")
def set_version_tags(
    principal: WriteAccess, name: str, version: VersionPath, tags: TagsIn, store: StoreDep
) -> ModelVersionInfo:
    registry = _registry(store, principal)
    registry.set_version_tags(name, version, tags.tags)
    return registry.get_version(name, version)


@router.get(
    f"{PREFIX}/models/{{name}}/versions/{{version}}/artifact",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_artifact(
    principal: ReadAccess, name: str, version: VersionPath, store: StoreDep
) -> Response:
    """The version's artifact bytes; its format and SHA-256 are in the X-Vigil-* headers."""
    info, data = _registry(store, principal).artifact(name, version)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "X-Vigil-Format": info.source_format,
            "X-Vigil-Sha256": info.source_sha256,
            "X-Vigil-Source-Name": info.source_name.encode("ascii", "replace").decode(),
        },
    )


@router.get(f"{PREFIX}/models/{{name}}/aliases/{{alias}}")
def get_alias(principal: ReadAccess, name: str, alias: str, store: StoreDep) -> AliasOut:
    """The version an alias points at now, and where to download its artifact."""
    info = _registry(store, principal).get_alias(name, alias)
    return AliasOut(
        model=name,
        alias=alias,
        version=info.version,
        source_format=info.source_format,
        source_sha256=info.source_sha256,
        source_size=info.source_size,
        artifact_url=_artifact_url(name, info.version),
        model_version=info.to_dict(),
    )


@router.put(f"{PREFIX}/models/{{name}}/aliases/{{alias}}")
def set_alias(
    principal: WriteAccess, name: str, alias: str, spec: AliasIn, store: StoreDep
) -> RegistryEventInfo:
    """Point the alias at a version, after the gates if given (409 promotion_refused if not)."""
    gates = None
    if spec.gates is not None:
        from vigil.analysis.validation import Suite

        g = spec.gates
        # Parsed here: a string given to Gates may also be a file path, and a client must not
        # make the server read its own files.
        suite = Suite.from_yaml(g.suite) if g.suite is not None else None
        gates = Gates(suite=suite, metric=g.metric, margin=g.margin, mode=g.mode)
    return _registry(store, principal).set_alias(name, alias, spec.version, gates=gates)


@router.delete(f"{PREFIX}/models/{{name}}/aliases/{{alias}}")
def delete_alias(
    principal: WriteAccess, name: str, alias: str, store: StoreDep
) -> RegistryEventInfo:
    return _registry(store, principal).delete_alias(name, alias)


@router.get(f"{PREFIX}/models/{{name}}/aliases/{{alias}}/at")
def alias_at(
    principal: ReadAccess,
    name: str,
    alias: str,
    store: StoreDep,
    time: Annotated[dt.datetime, Query(description="ISO 8601; UTC when no zone is given.")],
) -> AliasAtOut:
    """The version that held the alias at `time` (null: the alias did not exist then)."""
    when = time if time.tzinfo is not None else time.replace(tzinfo=dt.UTC)
    version = _registry(store, principal).alias_at(name, alias, when)
    return AliasAtOut(model=name, alias=alias, at=when, version=version)


@router.get(f"{PREFIX}/models/{{name}}/events")
def list_events(
    principal: ReadAccess,
    name: str,
    store: StoreDep,
    alias: Annotated[str | None, Query(max_length=200)] = None,
    actor: Actor = None,
) -> list[RegistryEventInfo]:
    """The model's append-only event log, oldest first (`actor=`: one person's changes)."""
    return _registry(store, principal).events(name, alias=alias, actor=actor)
