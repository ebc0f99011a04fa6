"""`client.registry`: the registered models and versions a monitored model serves, and how a
version compares with the one before it (or an alias's holder).

>>> client.registry.get_alias("churn", "production").version             # doctest: +SKIP
>>> client.registry.compare_versions("churn", 4)["quality"]              # doctest: +SKIP

Registering, promoting and loading stay in `vigil.models`, which also works without a client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Protocol

from vigil.client.areas.common import params

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.client.registry.remote import RemoteRegistry
    from vigil.registry.service import Registry
    from vigil.registry.types import (
        Lifecycle,
        ModelVersionInfo,
        RegisteredModelInfo,
        RegistryEventInfo,
    )
    from vigil.store.core import Store


class RegistryArea(Protocol):
    def get_model(self, name: str) -> RegisteredModelInfo: ...
    def list_models(self) -> list[RegisteredModelInfo]: ...
    def get_version(self, name: str, version: int) -> ModelVersionInfo: ...
    def list_versions(
        self, name: str, *, state: Lifecycle | None = None, actor: str | None = None
    ) -> list[ModelVersionInfo]: ...
    def get_alias(self, name: str, alias: str) -> ModelVersionInfo: ...
    def history(
        self, name: str, *, alias: str | None = None, actor: str | None = None
    ) -> list[RegistryEventInfo]: ...
    def compare_versions(
        self, model: str, version: int, *, against: str = "previous", top_k: int = 3
    ) -> dict[str, Any]: ...


class _Reads(ABC):
    """The reads `Registry` and `RemoteRegistry` answer alike, written once."""

    _registry: Registry | RemoteRegistry

    def get_model(self, name: str) -> RegisteredModelInfo:
        return self._registry.get_model(name)

    def list_models(self) -> list[RegisteredModelInfo]:
        return self._registry.list_models()

    def get_version(self, name: str, version: int) -> ModelVersionInfo:
        return self._registry.get_version(name, version)

    def list_versions(
        self, name: str, *, state: Lifecycle | None = None, actor: str | None = None
    ) -> list[ModelVersionInfo]:
        """The model's versions, oldest first (in lifecycle `state`, created by `actor`)."""
        return self._registry.list_versions(name, state=state, actor=actor)

    def get_alias(self, name: str, alias: str) -> ModelVersionInfo:
        """The version `alias` points at now."""
        return self._registry.get_alias(name, alias)

    def history(
        self, name: str, *, alias: str | None = None, actor: str | None = None
    ) -> list[RegistryEventInfo]:
        """The model's append-only event log, oldest first."""
        return self._registry.events(name, alias=alias, actor=actor)

    @abstractmethod
    def compare_versions(
        self, model: str, version: int, *, against: str = "previous", top_k: int = 3
    ) -> dict[str, Any]:
        """Registered version `version` of `model` against the previous version or an alias's
        holder: quality metrics, feature importance, training data (as in the REST API)."""


class LocalRegistry(_Reads):
    def __init__(self, store: Store) -> None:
        from vigil.registry.service import Registry

        self.store = store
        self._registry = Registry(store)

    def compare_versions(
        self, model: str, version: int, *, against: str = "previous", top_k: int = 3
    ) -> dict[str, Any]:
        """Registered version `version` of `model` against the previous version or an alias's
        holder: quality metrics, feature importance, training data (as in the REST API)."""
        from vigil.monitor.versions import compare_versions

        return compare_versions(self.store, model, version, against=against, top_k=top_k).to_dict()


class RemoteRegistryArea(_Reads):
    def __init__(self, api: VigilApi) -> None:
        from vigil.client.registry.remote import RemoteRegistry

        self.api = api
        self._registry = RemoteRegistry("", api=api)

    def compare_versions(
        self, model: str, version: int, *, against: str = "previous", top_k: int = 3
    ) -> dict[str, Any]:
        """Registered version `version` of `model` against the previous version or an alias's
        holder: quality metrics, feature importance, training data (as in the REST API)."""
        query = params(against=against, top_k=top_k)
        return self.api.registry.comparison(model, int(version), query)
