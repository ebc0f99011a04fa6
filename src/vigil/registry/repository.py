"""Typed access to the registry's tables within a Session: lookups that raise NotFoundError naming
what exists, and rows turned into the registry's result types. Callers own the transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.errors import NotFoundError
from vigil.registry.types import (
    ModelVersionInfo,
    RegisteredModelInfo,
    RegistryEventInfo,
    check_version,
)
from vigil.store.registry_tables import (
    RegisteredModel,
    RegistryAlias,
    RegistryEvent,
    RegistryModelVersion,
)


def find_model(session: Session, name: str, *, lock: bool = False) -> RegisteredModel:
    query = select(RegisteredModel).where(RegisteredModel.name == name)
    if lock:
        query = query.with_for_update()
    model = session.scalars(query).one_or_none()
    if model is None:
        known = session.scalars(
            select(RegisteredModel.name).order_by(RegisteredModel.name).limit(50)
        ).all()
        raise NotFoundError(
            f"no registered model named {name!r} (registered models: "
            f"{', '.join(known) or 'none'}); register a version first",
            model=name,
        )
    return model


def version_row(session: Session, model: RegisteredModel, version: int) -> RegistryModelVersion:
    check_version(version)
    row = session.scalars(
        select(RegistryModelVersion).where(
            RegistryModelVersion.model_id == model.id, RegistryModelVersion.version == version
        )
    ).one_or_none()
    if row is None:
        known = session.scalars(
            select(RegistryModelVersion.version)
            .where(RegistryModelVersion.model_id == model.id)
            .order_by(RegistryModelVersion.version)
        ).all()
        raise NotFoundError(
            f"model {model.name!r} has no version {version} (its versions: "
            f"{', '.join(map(str, known)) or 'none'})",
            model=model.name,
            version=version,
        )
    return row


def alias_row(session: Session, model: RegisteredModel, alias: str) -> RegistryAlias | None:
    return session.scalars(
        select(RegistryAlias).where(
            RegistryAlias.model_id == model.id, RegistryAlias.alias == alias
        )
    ).one_or_none()


def aliases_of(session: Session, model: RegisteredModel) -> dict[str, int]:
    rows = session.execute(
        select(RegistryAlias.alias, RegistryAlias.version).where(RegistryAlias.model_id == model.id)
    ).all()
    return {a: v for a, v in sorted(rows)}


def event_time(session: Session, model: RegisteredModel, now: dt.datetime) -> dt.datetime:
    """Now, but never before the model's last event: the log's order is its time order."""
    last = session.scalar(
        select(func.max(RegistryEvent.at)).where(RegistryEvent.model_id == model.id)
    )
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return max(now, last) if last is not None else now


def model_info(session: Session, model: RegisteredModel) -> RegisteredModelInfo:
    latest = session.scalar(
        select(func.max(RegistryModelVersion.version)).where(
            RegistryModelVersion.model_id == model.id
        )
    )
    return RegisteredModelInfo(
        name=model.name,
        description=model.description,
        tags=dict(model.tags),
        owner=model.owner,
        created_at=model.created_at,
        updated_at=model.updated_at,
        aliases=aliases_of(session, model),
        latest_version=latest,
    )


def version_info(
    session: Session, model: RegisteredModel, row: RegistryModelVersion
) -> ModelVersionInfo:
    aliases = tuple(a for a, v in aliases_of(session, model).items() if v == row.version)
    return ModelVersionInfo(
        name=model.name,
        version=row.version,
        source_format=row.source_format,  # type: ignore[arg-type]
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        source_size=row.source_size,
        run_id=row.run_id,
        schema=row.schema,
        metrics=dict(row.metrics),
        tags=dict(row.tags),
        description=row.description,
        status=row.status,
        created_by=row.created_by,
        created_at=row.created_at,
        has_profile=row.profile_key is not None,
        aliases=aliases,
        lifecycle=row.lifecycle,  # type: ignore[arg-type]
        retired_by=row.retired_by,
        retired_at=row.retired_at,
    )


def event_info(model: RegisteredModel, event: RegistryEvent) -> RegistryEventInfo:
    return RegistryEventInfo(
        id=event.id,
        model=model.name,
        kind=event.kind,  # type: ignore[arg-type]
        alias=event.alias,
        from_version=event.from_version,
        to_version=event.to_version,
        actor=event.actor,
        at=event.at,
        details=dict(event.details),
    )
