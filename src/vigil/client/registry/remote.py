"""The registry on a Vigil server: the same methods as `Registry`, over `vigil.api`'s client.

`vigil.models.register(..., url="https://vigil.example", token="vgl_...")` goes through this.
Model objects are serialised here, on the client; loading downloads the artifact, checks its
SHA-256 against the version's record and deserialises it here (the pickle caveat applies).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vigil.api.client import VigilApi
from vigil.errors import InvalidInputError
from vigil.registry.gates import Gates
from vigil.registry.packaging import pack, unpack_version
from vigil.registry.types import (
    ModelVersionInfo,
    RegisteredModelInfo,
    RegistryEventInfo,
    check_alias,
    check_model_name,
)
from vigil.registry.values import SchemaLike, schema_document

if TYPE_CHECKING:
    import httpx

    from vigil.profile import DatasetProfile


def _time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def model_from_dict(d: Mapping[str, Any]) -> RegisteredModelInfo:
    return RegisteredModelInfo(
        name=d["name"],
        description=d["description"],
        tags=dict(d["tags"]),
        owner=d["owner"],
        created_at=_time(d["created_at"]),
        updated_at=_time(d["updated_at"]),
        aliases=dict(d["aliases"]),
        latest_version=d["latest_version"],
    )


def version_from_dict(d: Mapping[str, Any]) -> ModelVersionInfo:
    return ModelVersionInfo(
        name=d["name"],
        version=d["version"],
        source_format=d["source_format"],
        source_name=d["source_name"],
        source_sha256=d["source_sha256"],
        source_size=d["source_size"],
        run_id=d["run_id"],
        schema=d["schema"],
        metrics=dict(d["metrics"]),
        tags=dict(d["tags"]),
        description=d["description"],
        status=d["status"],
        created_by=d["created_by"],
        created_at=_time(d["created_at"]),
        has_profile=d["has_profile"],
        aliases=tuple(d["aliases"]),
        lifecycle=d.get("lifecycle", "active"),
        retired_by=d.get("retired_by", ""),
        retired_at=_time(d["retired_at"]) if d.get("retired_at") else None,
    )


def event_from_dict(d: Mapping[str, Any]) -> RegistryEventInfo:
    return RegistryEventInfo(
        id=d["id"],
        model=d["model"],
        kind=d["kind"],
        alias=d["alias"],
        from_version=d["from_version"],
        to_version=d["to_version"],
        actor=d["actor"],
        at=_time(d["at"]),
        details=dict(d["details"]),
    )


class RemoteRegistry:
    """`Registry`'s methods against a server at `url` with an API token (read scope to read,
    write scope to change). `http` replaces the HTTP client (tests pass FastAPI's TestClient);
    `api` reuses a connection already open (a `vigil.Client`'s)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
        api: VigilApi | None = None,
    ) -> None:
        self._owned = api is None
        self.api = api or VigilApi(url, token, timeout=timeout, http=http)
        self._routes = self.api.registry

    def close(self) -> None:
        if self._owned:
            self.api.close()

    # models

    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, Any] | None = None
    ) -> RegisteredModelInfo:
        body: dict[str, Any] = {
            "name": check_model_name(name),
            "description": description,
            "tags": _tags(tags or {}),
        }
        return model_from_dict(self._routes.create_model(body))

    def get_model(self, name: str) -> RegisteredModelInfo:
        return model_from_dict(self._routes.get_model(name))

    def list_models(self) -> list[RegisteredModelInfo]:
        return [model_from_dict(m) for m in self._routes.list_models()]

    def set_model_tags(self, name: str, tags: Mapping[str, Any]) -> RegisteredModelInfo:
        return model_from_dict(self._routes.set_model_tags(name, _tags(tags)))

    # versions

    def register(
        self,
        name: str,
        model_or_path: Any,
        *,
        run_id: str | None = None,
        schema: SchemaLike = None,
        tags: Mapping[str, Any] | None = None,
        description: str = "",
        metrics: Mapping[str, Any] | None = None,
        profile: DatasetProfile | None = None,
    ) -> ModelVersionInfo:
        check_model_name(name)
        packed = pack(model_or_path)
        body: dict[str, Any] = {
            "upload_id": self._routes.upload(packed.data),
            "format": packed.format,
            "source_name": packed.name,
            "run_id": run_id,
            "description": description,
            "tags": _tags(tags or {}),
            "metrics": dict(metrics or {}),
            "schema": schema_document(schema, None) if schema is not None else None,
        }
        if profile is not None:
            body["profile_upload_id"] = self._routes.upload(profile.to_bytes())
        return version_from_dict(self._routes.create_version(name, body))

    def get_version(self, name: str, version: int) -> ModelVersionInfo:
        return version_from_dict(self._routes.get_version(name, version))

    def list_versions(
        self, name: str, *, state: str | None = None, actor: str | None = None
    ) -> list[ModelVersionInfo]:
        params = {k: v for k, v in (("state", state), ("actor", actor)) if v is not None}
        return [version_from_dict(v) for v in self._routes.list_versions(name, params)]

    def retire_version(self, name: str, version: int, *, note: str = "") -> ModelVersionInfo:
        return version_from_dict(self._routes.lifecycle(name, version, "retire", note))

    def restore_version(self, name: str, version: int, *, note: str = "") -> ModelVersionInfo:
        return version_from_dict(self._routes.lifecycle(name, version, "restore", note))

    def versions_of_run(self, run_id: str) -> list[ModelVersionInfo]:
        return [version_from_dict(v) for v in self._routes.versions_of_run(run_id)]

    def set_version_tags(self, name: str, version: int, tags: Mapping[str, Any]) -> None:
        self._routes.set_version_tags(name, version, _tags(tags))

    def artifact(self, name: str, version: int) -> tuple[ModelVersionInfo, bytes]:
        info = self.get_version(name, version)
        return info, self._routes.artifact(name, version)

    def load(
        self,
        name: str,
        version: int,
        *,
        trusted: Sequence[str] | None = None,
        dst: str | None = None,
    ) -> Any:
        info, data = self.artifact(name, version)
        return unpack_version(info, data, trusted=trusted, dst=dst)

    # aliases

    def get_alias(self, name: str, alias: str) -> ModelVersionInfo:
        answer = self._routes.get_alias(name, check_alias(alias))
        return version_from_dict(answer["model_version"])

    def set_alias(
        self, name: str, alias: str, version: int, *, gates: Gates | None = None
    ) -> RegistryEventInfo:
        body: dict[str, Any] = {"version": version}
        if gates is not None:
            suite = gates.load_suite()
            body["gates"] = {
                "suite": suite.to_yaml() if suite is not None else None,
                "metric": gates.metric,
                "margin": gates.margin,
                "mode": gates.mode,
            }
        return event_from_dict(self._routes.set_alias(name, check_alias(alias), body))

    def delete_alias(self, name: str, alias: str) -> RegistryEventInfo:
        return event_from_dict(self._routes.delete_alias(name, check_alias(alias)))

    def alias_at(self, name: str, alias: str, at: dt.datetime) -> int | None:
        if not isinstance(at, dt.datetime) or at.tzinfo is None:
            raise InvalidInputError(
                f"at must be a timezone-aware datetime (e.g. datetime.now(timezone.utc)), got {at!r}"
            )
        return self._routes.alias_at(name, check_alias(alias), at.isoformat())

    def events(
        self, name: str, *, alias: str | None = None, actor: str | None = None
    ) -> list[RegistryEventInfo]:
        params = {"alias": check_alias(alias)} if alias is not None else {}
        if actor is not None:
            params["actor"] = actor
        return [event_from_dict(e) for e in self._routes.events(name, params)]


def _tags(tags: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in tags.items()}
