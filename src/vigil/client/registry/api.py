"""`vigil.models`: register, load and promote models in the registry.

>>> import vigil
>>> vigil.models.register("churn", fitted_model, run_id=run.id, metrics={"auc": 0.91})
>>> vigil.models.set_alias("churn", "production", 1)
>>> model = vigil.models.load("models:/churn@production")

Each function works on the Vigil server at `url=` (with an API `token=`), or on the store given
as `store=` (a `vigil.store.core.Store`), else on the one in the settings (`VIGIL_STORE_URL`, `VIGIL_ARTIFACTS_URL`; `sqlite:///.vigil/vigil.db` by default).

Loading a joblib artifact is loading a pickle, which runs code chosen by whoever registered it:
only load models from a registry whose writers you trust. skops artifacts load only types skops
trusts (scikit-learn's own), plus those you name in `trusted=`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.client.registry.remote import RemoteRegistry
from vigil.errors import InvalidInputError
from vigil.registry.gates import Gates
from vigil.registry.packaging import materialise
from vigil.registry.service import Registry
from vigil.registry.types import (
    Lifecycle,
    ModelVersionInfo,
    RegisteredModelInfo,
    RegistryEventInfo,
    check_alias,
    check_model_name,
)
from vigil.registry.values import SchemaLike

if TYPE_CHECKING:
    from vigil.profile import DatasetProfile
    from vigil.store.core import Store

__all__ = [
    "Gates",
    "ModelUri",
    "alias_at",
    "delete_alias",
    "download",
    "get_model",
    "get_version",
    "history",
    "list_models",
    "list_versions",
    "load",
    "parse_uri",
    "register",
    "resolve",
    "set_alias",
    "versions_of_run",
]

_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/@]+)|@(?P<alias>[^/@]+))$")


@dataclass(frozen=True, slots=True)
class ModelUri:
    """A parsed `models:/NAME/VERSION`, `models:/NAME/latest` or `models:/NAME@ALIAS`."""

    name: str
    version: int | None = None
    alias: str | None = None
    latest: bool = False


def parse_uri(uri: str) -> ModelUri:
    """Parse a model URI; InvalidInputError says what forms are accepted."""
    match = _URI.match(uri) if isinstance(uri, str) else None
    if match is None:
        raise InvalidInputError(
            f"model URI {uri!r} is not valid; use models:/NAME/VERSION, models:/NAME/latest "
            "or models:/NAME@ALIAS (e.g. models:/churn@production)",
            uri=uri,
        )
    name = check_model_name(match["name"])
    if match["alias"] is not None:
        return ModelUri(name, alias=check_alias(match["alias"]))
    text = match["version"]
    if text == "latest":
        return ModelUri(name, latest=True)
    if not text.isdigit() or int(text) < 1:
        raise InvalidInputError(
            f"model URI {uri!r} names version {text!r}; a version is a positive integer or "
            "'latest'",
            uri=uri,
        )
    return ModelUri(name, version=int(text))


@contextmanager
def _registry(
    store: Store | None, url: str | None = None, token: str | None = None
) -> Iterator[Registry | RemoteRegistry]:
    if url is not None:
        if store is not None:
            raise InvalidInputError("give store= (a local store) or url= (a server), not both")
        remote = RemoteRegistry(url, token)
        try:
            yield remote
        finally:
            remote.close()
        return
    if store is not None:
        yield Registry(store)
        return
    from vigil.config import StoreSettings
    from vigil.store.core import Store as StoreClass

    settings = StoreSettings()
    opened = StoreClass.open(settings.store_url, settings.artifacts_url)
    try:
        yield Registry(opened)
    finally:
        opened.close()


def _resolve(registry: Registry | RemoteRegistry, uri: str) -> ModelVersionInfo:
    parsed = parse_uri(uri)
    if parsed.alias is not None:
        return registry.get_alias(parsed.name, parsed.alias)
    if parsed.latest:
        latest = registry.get_model(parsed.name).latest_version
        if latest is None:
            raise InvalidInputError(f"model {parsed.name!r} has no versions yet", model=parsed.name)
        return registry.get_version(parsed.name, latest)
    assert parsed.version is not None
    return registry.get_version(parsed.name, parsed.version)


def register(
    name: str,
    model_or_path: Any,
    *,
    run_id: str | None = None,
    schema: SchemaLike = None,
    tags: Mapping[str, Any] | None = None,
    description: str = "",
    metrics: Mapping[str, float] | None = None,
    profile: DatasetProfile | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> ModelVersionInfo:
    """Register a new version of `name`: a model object (skops, else joblib) or a file or folder
    path (stored as it is). `profile` is the training dataset profile (its columns become the
    schema unless `schema` is given; promotion gates validate it); `metrics` are compared by
    metric gates."""
    with _registry(store, url, token) as registry:
        return registry.register(
            name,
            model_or_path,
            run_id=run_id,
            schema=schema,
            tags=tags,
            description=description,
            metrics=metrics,
            profile=profile,
        )


def resolve(
    uri: str, *, store: Store | None = None, url: str | None = None, token: str | None = None
) -> ModelVersionInfo:
    """The version a model URI names now."""
    with _registry(store, url, token) as registry:
        return _resolve(registry, uri)


def load(
    uri: str,
    *,
    trusted: Sequence[str] | None = None,
    dst: str | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> Any:
    """The model a URI names: the object for skops and joblib artifacts (and for a registered
    `.skops`, `.joblib`, `.pkl` file), the `mlflow.pyfunc` model for an MLflow model folder, else
    the path of the file or folder, unpacked into `dst` (a new temporary folder by default).

    Only the registry's own artifact is read, and its SHA-256 is checked first. joblib is pickle:
    only load from a registry you trust.
    """
    with _registry(store, url, token) as registry:
        info = _resolve(registry, uri)
        return registry.load(info.name, info.version, trusted=trusted, dst=dst)


def download(
    uri: str,
    dst: str | None = None,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> Path:
    """The files of the version a URI names, in `dst` (a new temporary folder by default),
    without deserialising them: the model file, or the unpacked folder. The SHA-256 is checked."""
    with _registry(store, url, token) as registry:
        info = _resolve(registry, uri)
        _, data = registry.artifact(info.name, info.version)
    return materialise(
        data,
        info.source_format,
        source_name=info.source_name,
        expected_sha256=info.source_sha256,
        dst=dst,
    )


def get_model(
    name: str, *, store: Store | None = None, url: str | None = None, token: str | None = None
) -> RegisteredModelInfo:
    with _registry(store, url, token) as registry:
        return registry.get_model(name)


def list_models(
    *, store: Store | None = None, url: str | None = None, token: str | None = None
) -> list[RegisteredModelInfo]:
    with _registry(store, url, token) as registry:
        return registry.list_models()


def get_version(
    name: str,
    version: int,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> ModelVersionInfo:
    with _registry(store, url, token) as registry:
        return registry.get_version(name, version)


def list_versions(
    name: str,
    *,
    state: Lifecycle | None = None,
    actor: str | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> list[ModelVersionInfo]:
    """The model's versions, oldest first (in lifecycle `state`, created by `actor`, if given)."""
    with _registry(store, url, token) as registry:
        return registry.list_versions(name, state=state, actor=actor)


def retire(
    name: str,
    version: int,
    *,
    note: str = "",
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> ModelVersionInfo:
    """Retire (archive) a version: kept with its history, refused an alias."""
    with _registry(store, url, token) as registry:
        return registry.retire_version(name, version, note=note)


def restore(
    name: str,
    version: int,
    *,
    note: str = "",
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> ModelVersionInfo:
    """Un-retire a version."""
    with _registry(store, url, token) as registry:
        return registry.restore_version(name, version, note=note)


def versions_of_run(
    run_id: str,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> list[ModelVersionInfo]:
    """The model versions registered from a tracking run (lineage)."""
    with _registry(store, url, token) as registry:
        return registry.versions_of_run(run_id)


def set_alias(
    name: str,
    alias: str,
    version: int,
    *,
    gates: Gates | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> RegistryEventInfo:
    """Point `alias` at `version` after the optional promotion `gates` pass."""
    with _registry(store, url, token) as registry:
        return registry.set_alias(name, alias, version, gates=gates)


def delete_alias(
    name: str,
    alias: str,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> RegistryEventInfo:
    with _registry(store, url, token) as registry:
        return registry.delete_alias(name, alias)


def alias_at(
    name: str,
    alias: str,
    at: dt.datetime,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> int | None:
    """The version that held `@alias` at time `at`, None when the alias did not exist then."""
    with _registry(store, url, token) as registry:
        return registry.alias_at(name, alias, at)


def history(
    name: str,
    *,
    alias: str | None = None,
    actor: str | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
) -> list[RegistryEventInfo]:
    """The model's append-only event log, oldest first (`actor`: one person's changes)."""
    with _registry(store, url, token) as registry:
        return registry.events(name, alias=alias, actor=actor)
