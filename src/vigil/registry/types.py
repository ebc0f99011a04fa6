"""The registry's typed results: registered models, versions, events, and the promotion error."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from vigil.errors import InvalidInputError

SourceFormat = Literal["skops", "joblib", "file", "directory", "mlflow"]
EventKind = Literal[
    "model_created",
    "version_created",
    "alias_set",
    "alias_moved",
    "alias_deleted",
    "alias_refused",
    "tags_changed",
    "version_retired",
    "version_restored",
    "stage_changed",
]
Lifecycle = Literal["active", "retired"]
LIFECYCLE_STATES: tuple[str, ...] = ("active", "retired")

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,199}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,199}$")
_RESERVED_ALIAS = re.compile(r"^(latest|[vV]\d+)$")


def check_model_name(name: str) -> str:
    """`name` if it is a valid registered model name, else InvalidInputError."""
    if not isinstance(name, str) or not _MODEL_NAME.match(name) or name != name.strip():
        raise InvalidInputError(
            f"model name {name!r} is not valid; use 1 to 200 letters, digits, spaces and . _ -, "
            "starting with a letter or digit (no '/' or '@', which model URIs use)",
            model=name,
        )
    return name


def check_alias(alias: str) -> str:
    """`alias` if it is a valid alias name, else InvalidInputError."""
    if not isinstance(alias, str) or not _ALIAS.match(alias) or _RESERVED_ALIAS.match(alias):
        raise InvalidInputError(
            f"alias {alias!r} is not valid; use letters, digits, _ and -, starting with a letter "
            "or _ (e.g. 'production', 'staging'); 'latest' and 'v<number>' are reserved",
            alias=alias,
        )
    return alias


def check_lifecycle(state: str | None) -> Lifecycle | None:
    """`state` if it is a lifecycle state (or None), else InvalidInputError naming the states."""
    if state is not None and state not in LIFECYCLE_STATES:
        raise InvalidInputError(
            f"lifecycle state {state!r} is not one of {', '.join(LIFECYCLE_STATES)}", state=state
        )
    return state  # type: ignore[return-value]


def check_version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInputError(
            f"model version must be a positive integer (1, 2, ...), got {version!r}",
            version=version,
        )
    return version


@dataclass(frozen=True, slots=True)
class RegisteredModelInfo:
    """A registered model and where its aliases point (alias -> version)."""

    name: str
    description: str
    tags: dict[str, str]
    owner: str
    created_at: dt.datetime
    updated_at: dt.datetime
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": dict(self.tags),
            "owner": self.owner,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "aliases": dict(self.aliases),
            "latest_version": self.latest_version,
        }


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    """One version of a registered model: its source artifact and what it was built from."""

    name: str
    version: int
    source_format: SourceFormat
    source_name: str
    source_sha256: str
    source_size: int
    run_id: str | None
    schema: dict[str, Any] | None
    metrics: dict[str, float]
    tags: dict[str, str]
    description: str
    status: str
    created_by: str
    created_at: dt.datetime
    has_profile: bool
    aliases: tuple[str, ...] = ()
    lifecycle: Lifecycle = "active"
    """`retired` versions keep their history but cannot be given an alias."""
    retired_by: str = ""
    retired_at: dt.datetime | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "source_format": self.source_format,
            "source_name": self.source_name,
            "source_sha256": self.source_sha256,
            "source_size": self.source_size,
            "run_id": self.run_id,
            "schema": self.schema,
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "description": self.description,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "has_profile": self.has_profile,
            "aliases": list(self.aliases),
            "lifecycle": self.lifecycle,
            "retired_by": self.retired_by,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
        }


@dataclass(frozen=True, slots=True)
class RegistryEventInfo:
    """One entry of a model's append-only event log."""

    id: int
    model: str
    kind: EventKind
    alias: str | None
    from_version: int | None
    to_version: int | None
    actor: str
    at: dt.datetime
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "kind": self.kind,
            "alias": self.alias,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "details": self.details,
        }
