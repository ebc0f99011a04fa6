"""The model registry (`/api/v1/registry`): models, versions, artifacts, aliases, events and
version comparisons. Answers are the server's JSON; the client reads them into the registry's
values (`vigil.client.registry.remote`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.api.http import segment
from vigil.api.routes.base import V1, Area

PREFIX = f"{V1}/registry"


def _model(name: str) -> str:
    return f"{PREFIX}/models/{segment(name)}"


def version_path(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{int(version)}"


def _alias(name: str, alias: str) -> str:
    return f"{_model(name)}/aliases/{segment(alias)}"


class RegistryRoutes(Area):
    def upload(self, data: bytes) -> str:
        """Upload artifact bytes; the id to name them by in `create_version`."""
        upload_id: str = self.http.json("POST", f"{PREFIX}/uploads", content=data)["upload_id"]
        return upload_id

    def create_model(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.json("POST", f"{PREFIX}/models", json=dict(body)))

    def get_model(self, name: str) -> dict[str, Any]:
        return dict(self.http.json("GET", _model(name)))

    def list_models(self) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{PREFIX}/models"))

    def set_model_tags(self, name: str, tags: Mapping[str, str]) -> dict[str, Any]:
        return dict(self.http.json("PUT", f"{_model(name)}/tags", json={"tags": dict(tags)}))

    def create_version(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.json("POST", f"{_model(name)}/versions", json=dict(body)))

    def get_version(self, name: str, version: int) -> dict[str, Any]:
        return dict(self.http.json("GET", version_path(name, version)))

    def list_versions(self, name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{_model(name)}/versions", params=dict(params)))

    def lifecycle(self, name: str, version: int, action: str, note: str) -> dict[str, Any]:
        """`retire` or `restore` a version."""
        if action not in ("retire", "restore"):
            raise ValueError(f"action must be 'retire' or 'restore', got {action!r}")
        path = f"{version_path(name, version)}/{action}"
        return dict(self.http.json("POST", path, json={"note": note}))

    def versions_of_run(self, run_id: str) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{PREFIX}/versions", params={"run_id": run_id}))

    def set_version_tags(self, name: str, version: int, tags: Mapping[str, str]) -> None:
        self.http.request("PUT", f"{version_path(name, version)}/tags", json={"tags": dict(tags)})

    def artifact(self, name: str, version: int) -> bytes:
        return self.http.request("GET", f"{version_path(name, version)}/artifact").content

    def get_alias(self, name: str, alias: str) -> dict[str, Any]:
        return dict(self.http.json("GET", _alias(name, alias)))

    def set_alias(self, name: str, alias: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.json("PUT", _alias(name, alias), json=dict(body)))

    def delete_alias(self, name: str, alias: str) -> dict[str, Any]:
        return dict(self.http.json("DELETE", _alias(name, alias)))

    def alias_at(self, name: str, alias: str, at: str) -> int | None:
        """The version `@alias` named at ISO time `at` (None when it did not exist)."""
        body = self.http.json("GET", f"{_alias(name, alias)}/at", params={"time": at})
        version: int | None = body["version"]
        return version

    def events(self, name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{_model(name)}/events", params=dict(params)))

    def comparison(self, name: str, version: int, params: Mapping[str, str]) -> dict[str, Any]:
        """Version `version` against the previous one or an alias's holder (its JSON)."""
        path = f"{version_path(name, version)}/comparison"
        return dict(self.http.json("GET", path, params=dict(params)))

    def log_importances(self, name: str, version: int, body: Mapping[str, Any]) -> None:
        """Record a version's global importances (`{"method", "values"}`)."""
        self.http.request("POST", f"{version_path(name, version)}/importances", json=dict(body))
