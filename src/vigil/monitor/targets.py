"""Resolve a monitor's target to the stored windows it reads: a version string, an alias's
current version (through the registry, at each evaluation), and a segment key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.api.specs import ModelSpec
from vigil.errors import InvalidInputError
from vigil.monitor.specs import Target
from vigil.store.models import ProfileWindow


@dataclass(frozen=True)
class ResolvedTarget:
    """The windows a target reads now: `version` None means every version."""

    version: str | None
    segment: str = ""
    registry_version: int | None = None
    """The registry version an alias pointed at when it was resolved."""


def window_version(session: Session, model_id: int, number: int) -> str:
    """The version string the model's windows use for registry version `number`: `"3"`, or
    `"v3"` when the model logged it so (and not as `"3"`)."""
    logged = set(
        session.scalars(
            select(ProfileWindow.version)
            .where(
                ProfileWindow.model_id == model_id,
                ProfileWindow.version.in_([str(number), f"v{number}"]),
            )
            .distinct()
        ).all()
    )
    return f"v{number}" if logged == {f"v{number}"} else str(number)


def resolve(session: Session, target: Target, model: ModelSpec, model_id: int) -> ResolvedTarget:
    """Where the target's windows are now. An alias is read from the registry of the model's
    `registry_model`; raises NotFoundError when it does not exist (any more)."""
    if target.segment:
        ((column, _),) = target.segment.items()
        if column not in model.segments:
            raise InvalidInputError(
                f"target {target.key!r} names segment column {column!r}, which is not one of "
                f"model {model.name!r}'s segment columns {model.segments}"
            )
    if target.alias is None:
        return ResolvedTarget(target.version, target.segment_key)
    number = alias_version(session, target, model)
    return ResolvedTarget(window_version(session, model_id, number), target.segment_key, number)


def alias_version(session: Session, target: Target, model: ModelSpec) -> int:
    """The registry version number the target's alias points at now."""
    assert target.alias is not None
    if model.registry_model is None:
        raise InvalidInputError(
            f"target {target.key!r} names alias @{target.alias}, but model {model.name!r} names "
            "no registry_model to resolve it in; set registry_model when creating the model"
        )
    from vigil.errors import NotFoundError
    from vigil.registry.repository import alias_row, aliases_of, find_model

    registered = find_model(session, model.registry_model)
    row = alias_row(session, registered, target.alias)
    if row is None:
        known = ", ".join(f"@{a}" for a in aliases_of(session, registered)) or "none"
        raise NotFoundError(
            f"registered model {model.registry_model!r} has no alias @{target.alias} "
            f"(its aliases: {known})",
            model=model.registry_model,
            alias=target.alias,
        )
    return row.version
