"""The registry's domain operations on a `Store`: models, versions, aliases and the event log.

Every change to a model locks its row (PostgreSQL `SELECT ... FOR UPDATE`; SQLite transactions
already start with `BEGIN IMMEDIATE`), so version numbers are handed out once and two processes
moving the same alias queue: each move is one event whose `from_version` is the version the alias
really left, and the alias row always agrees with the last event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.errors import ConflictError, InvalidInputError, NotFoundError, PromotionRefusedError
from vigil.events.outbox import EventType, emit
from vigil.profile import DatasetProfile
from vigil.registry.gates import Gates, evaluate
from vigil.registry.packaging import PackedModel, pack, unpack
from vigil.registry.repository import (
    alias_row,
    aliases_of,
    event_info,
    event_time,
    find_model,
    model_info,
    version_info,
    version_row,
)
from vigil.registry.types import (
    Lifecycle,
    ModelVersionInfo,
    RegisteredModelInfo,
    RegistryEventInfo,
    check_alias,
    check_lifecycle,
    check_model_name,
    check_version,
)
from vigil.registry.values import (
    SchemaLike,
    clean_metrics,
    clean_tags,
    current_user,
    schema_document,
)
from vigil.store.registry_tables import (
    RegisteredModel,
    RegistryAlias,
    RegistryEvent,
    RegistryModelVersion,
)

if TYPE_CHECKING:
    from vigil.store.core import Store


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


PUBLISHED: dict[str, EventType] = {
    "version_created": "model.version_created",
    "alias_set": "model.alias_moved",
    "alias_moved": "model.alias_moved",
    "alias_deleted": "model.alias_deleted",
    "version_retired": "model.version_retired",
    "version_restored": "model.version_restored",
}
"""Registry event kinds that other systems hear about (in the outbox, same transaction)."""


class VersionRetiredError(ConflictError):
    """An alias was asked to point at a retired version."""

    code = "version_retired"


class Registry:
    """Registered models, versions, aliases and their event log, on one store.

    `actor` is who the changes are recorded as: the OS user by default, the token's owner when
    the server makes them.
    """

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or current_user()

    # models ------------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        owner: str | None = None,
    ) -> RegisteredModelInfo:
        """Create a registered model, or return it unchanged if it exists."""
        with self.store.session() as session:
            model = self._ensure_model(session, name, description, tags, owner)
            session.commit()
            return model_info(session, model)

    def get_model(self, name: str) -> RegisteredModelInfo:
        with self.store.session() as session:
            return model_info(session, find_model(session, name))

    def list_models(self) -> list[RegisteredModelInfo]:
        with self.store.session() as session:
            models = session.scalars(select(RegisteredModel).order_by(RegisteredModel.name))
            return [model_info(session, m) for m in models]

    def set_model_tags(self, name: str, tags: Mapping[str, Any]) -> RegisteredModelInfo:
        """Replace the model's tags (recorded as a `tags_changed` event)."""
        new = clean_tags(tags)
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            old = dict(model.tags)
            model.tags = new
            model.updated_at = _now()
            self._event(session, model, "tags_changed", details={"from": old, "to": new})
            session.commit()
            return model_info(session, model)

    # versions ----------------------------------------------------------------------------

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
        """Store a new version of `name` (created if new): the next number, 1, 2, 3, ..."""
        check_model_name(name)
        return self.register_packed(
            name,
            pack(model_or_path),
            run_id=run_id,
            schema=schema,
            tags=tags,
            description=description,
            metrics=metrics,
            profile=profile,
        )

    def register_packed(
        self,
        name: str,
        packed: PackedModel,
        *,
        run_id: str | None = None,
        schema: SchemaLike = None,
        tags: Mapping[str, Any] | None = None,
        description: str = "",
        metrics: Mapping[str, Any] | None = None,
        profile: DatasetProfile | None = None,
    ) -> ModelVersionInfo:
        """`register` for an artifact already packed (the server receives them so)."""
        check_model_name(name)
        if run_id is not None and (not isinstance(run_id, str) or not 0 < len(run_id) <= 64):
            raise InvalidInputError(f"run_id must be a run's id string, got {run_id!r}")
        if not isinstance(description, str):
            raise InvalidInputError(f"description must be a string, got {description!r}")
        schema_doc = schema_document(schema, profile)
        clean_metrics_, clean_tags_ = clean_metrics(metrics), clean_tags(tags)
        # The bytes go to the artifact store before the transaction, so that a slow upload (S3)
        # does not hold the model's lock (on SQLite, every writer's); a failed registration
        # removes them again.
        folder = f"registry/versions/{uuid.uuid4().hex}"
        key = f"{folder}/{packed.filename}"
        profile_key = f"{folder}/training.vgp" if profile is not None else None
        self.store.artifacts.put(key, packed.data)
        try:
            if profile is not None and profile_key is not None:
                self.store.artifacts.put(profile_key, profile.to_bytes())
            return self._add_version(
                name,
                packed,
                key=key,
                profile_key=profile_key,
                run_id=run_id,
                schema=schema_doc,
                metrics=clean_metrics_,
                tags=clean_tags_,
                description=description,
            )
        except BaseException:
            for written in (key, profile_key):
                if written is not None:
                    self.store.artifacts.delete(written)
            raise

    def _add_version(
        self,
        name: str,
        packed: PackedModel,
        *,
        key: str,
        profile_key: str | None,
        run_id: str | None,
        schema: dict[str, Any] | None,
        metrics: dict[str, float],
        tags: dict[str, str],
        description: str,
    ) -> ModelVersionInfo:
        with self.store.session() as session:
            model = self._ensure_model(session, name, "", None, None)
            session.flush()
            model = find_model(session, name, lock=True)
            number = (
                session.scalar(
                    select(func.max(RegistryModelVersion.version)).where(
                        RegistryModelVersion.model_id == model.id
                    )
                )
                or 0
            ) + 1
            row = RegistryModelVersion(
                model_id=model.id,
                version=number,
                source_key=key,
                source_format=packed.format,
                source_name=packed.name,
                source_sha256=packed.sha256,
                source_size=len(packed.data),
                profile_key=profile_key,
                run_id=run_id,
                schema=schema,
                metrics=metrics,
                tags=tags,
                description=description,
                status="READY",
                created_by=self.actor,
                created_at=_now(),
            )
            session.add(row)
            model.updated_at = row.created_at
            self._event(session, model, "version_created", to_version=number)
            session.commit()
            return version_info(session, model, row)

    def get_version(self, name: str, version: int) -> ModelVersionInfo:
        with self.store.session() as session:
            model = find_model(session, name)
            return version_info(session, model, version_row(session, model, version))

    def list_versions(
        self, name: str, *, state: Lifecycle | None = None, actor: str | None = None
    ) -> list[ModelVersionInfo]:
        """The model's versions, oldest first; only those in lifecycle `state` (`active`,
        `retired`) and created by `actor` when given."""
        check_lifecycle(state)
        with self.store.session() as session:
            model = find_model(session, name)
            query = select(RegistryModelVersion).where(RegistryModelVersion.model_id == model.id)
            if state is not None:
                query = query.where(RegistryModelVersion.lifecycle == state)
            if actor is not None:
                query = query.where(RegistryModelVersion.created_by == actor)
            rows = session.scalars(query.order_by(RegistryModelVersion.version)).all()
            return [version_info(session, model, r) for r in rows]

    def retire_version(self, name: str, version: int, *, note: str = "") -> ModelVersionInfo:
        """Archive a version: it keeps its artifact, metrics and history, and can be loaded, but
        no alias may point at it. Refused (ConflictError) while an alias points at it."""
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            row = version_row(session, model, version)
            if row.lifecycle == "retired":
                return version_info(session, model, row)
            holding = sorted(a for a, v in aliases_of(session, model).items() if v == version)
            if holding:
                raise ConflictError(
                    f"version {version} of {name!r} cannot be retired while "
                    f"{', '.join('@' + a for a in holding)} points at it; move or delete "
                    "the alias first",
                    model=name,
                    version=version,
                    aliases=holding,
                )
            row.lifecycle, row.retired_by, row.retired_at = "retired", self.actor, _now()
            self._event(
                session, model, "version_retired", to_version=version, details={"note": note}
            )
            session.commit()
            return version_info(session, model, row)

    def restore_version(self, name: str, version: int, *, note: str = "") -> ModelVersionInfo:
        """Un-retire a version: it may be given aliases again."""
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            row = version_row(session, model, version)
            if row.lifecycle == "active":
                return version_info(session, model, row)
            row.lifecycle, row.retired_by, row.retired_at = "active", "", None
            self._event(
                session, model, "version_restored", to_version=version, details={"note": note}
            )
            session.commit()
            return version_info(session, model, row)

    def versions_of_run(self, run_id: str) -> list[ModelVersionInfo]:
        """Every version registered from the tracking run `run_id` (lineage), by model and number."""
        with self.store.session() as session:
            rows = session.execute(
                select(RegisteredModel, RegistryModelVersion)
                .join(RegisteredModel, RegisteredModel.id == RegistryModelVersion.model_id)
                .where(RegistryModelVersion.run_id == run_id)
                .order_by(RegisteredModel.name, RegistryModelVersion.version)
            ).all()
            return [version_info(session, model, row) for model, row in rows]

    def set_version_tags(self, name: str, version: int, tags: Mapping[str, Any]) -> None:
        """Replace a version's tags (recorded as a `tags_changed` event)."""
        new = clean_tags(tags)
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            row = version_row(session, model, version)
            old = dict(row.tags)
            row.tags = new
            self._event(
                session,
                model,
                "tags_changed",
                to_version=row.version,
                details={"from": old, "to": new},
            )
            session.commit()

    def training_profile(self, name: str, version: int) -> DatasetProfile | None:
        """The training dataset profile stored with the version, if one was given."""
        found = self.get_version_row(name, version)
        if found.profile_key is None:
            return None
        return DatasetProfile.from_bytes(self.store.artifacts.get(found.profile_key))

    def get_version_row(self, name: str, version: int) -> RegistryModelVersion:
        with self.store.session() as session:
            return version_row(session, find_model(session, name), version)

    def artifact(self, name: str, version: int) -> tuple[ModelVersionInfo, bytes]:
        """A version's record and its source artifact's bytes."""
        info = self.get_version(name, version)
        return info, self.store.artifacts.get(self.get_version_row(name, version).source_key)

    # aliases -----------------------------------------------------------------------------

    def get_alias(self, name: str, alias: str) -> ModelVersionInfo:
        """The version `alias` points at now."""
        check_alias(alias)
        with self.store.session() as session:
            model = find_model(session, name)
            row = session.scalars(
                select(RegistryAlias).where(
                    RegistryAlias.model_id == model.id, RegistryAlias.alias == alias
                )
            ).one_or_none()
            if row is None:
                known = aliases_of(session, model)
                raise NotFoundError(
                    f"model {name!r} has no alias {alias!r} (its aliases: "
                    f"{', '.join(f'@{a}' for a in sorted(known)) or 'none'})",
                    model=name,
                    alias=alias,
                )
            return version_info(session, model, version_row(session, model, row.version))

    def set_alias(
        self, name: str, alias: str, version: int, *, gates: Gates | None = None
    ) -> RegistryEventInfo:
        """Point `alias` at `version` (one `alias_set` or `alias_moved` event), after `gates`.

        A refusal raises PromotionRefusedError with the reasons and numbers, and is recorded as an
        `alias_refused` event.
        """
        check_alias(alias)
        check_version(version)
        refusal: tuple[int | None, dict[str, Any]] | None = None
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            target = version_row(session, model, version)
            if target.lifecycle == "retired":
                raise VersionRetiredError(
                    f"version {version} of {name!r} is retired (by {target.retired_by or '?'} "
                    f"at {target.retired_at:%Y-%m-%d %H:%M} UTC), so @{alias} cannot point at "
                    f"it; restore it first (`vigil models restore {name} {version}`) or choose "
                    "an active version",
                    model=name,
                    alias=alias,
                    version=version,
                )
            current = alias_row(session, model, alias)
            previous = current.version if current is not None else None
            if gates is not None:
                holder = None
                if previous is not None:
                    holder = version_info(session, model, version_row(session, model, previous))
                candidate = version_info(session, model, target)
                profile = None
                if gates.suite is not None and target.profile_key is not None:
                    # Read in this transaction: a second session would wait on SQLite's write lock.
                    profile = DatasetProfile.from_bytes(
                        self.store.artifacts.get(target.profile_key)
                    )
                outcome = evaluate(gates, candidate, holder, profile)
                if not outcome.passed:
                    refusal = (previous, {"reasons": list(outcome.reasons), **outcome.numbers})
            if refusal is None:
                now = event_time(session, model, _now())
                if current is None:
                    session.add(
                        RegistryAlias(
                            model_id=model.id,
                            alias=alias,
                            version=version,
                            updated_by=self.actor,
                            updated_at=now,
                        )
                    )
                    kind = "alias_set"
                else:
                    current.version = version
                    current.updated_by = self.actor
                    current.updated_at = now
                    kind = "alias_moved"
                event = self._event(
                    session,
                    model,
                    kind,
                    alias=alias,
                    from_version=previous,
                    to_version=version,
                    at=now,
                )
                session.commit()
                return event_info(model, event)
            session.rollback()
        previous, details = refusal
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            self._event(
                session,
                model,
                "alias_refused",
                alias=alias,
                from_version=previous,
                to_version=version,
                details=details,
            )
            session.commit()
        reasons = "; ".join(details["reasons"])
        raise PromotionRefusedError(
            f"moving @{alias} of {name!r} to version {version} was refused: {reasons}",
            model=name,
            alias=alias,
            version=version,
            **details,
        )

    def delete_alias(self, name: str, alias: str) -> RegistryEventInfo:
        """Remove `alias` (one `alias_deleted` event)."""
        check_alias(alias)
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            current = alias_row(session, model, alias)
            if current is None:
                known = aliases_of(session, model)
                raise NotFoundError(
                    f"model {name!r} has no alias {alias!r} to delete (its aliases: "
                    f"{', '.join(f'@{a}' for a in sorted(known)) or 'none'})",
                    model=name,
                    alias=alias,
                )
            previous = current.version
            session.delete(current)
            event = self._event(session, model, "alias_deleted", alias=alias, from_version=previous)
            session.commit()
            return event_info(model, event)

    def alias_at(self, name: str, alias: str, at: dt.datetime) -> int | None:
        """The version `alias` pointed at, at time `at` (a change at exactly `at` counts); None
        when the alias did not exist then."""
        check_alias(alias)
        if not isinstance(at, dt.datetime) or at.tzinfo is None:
            raise InvalidInputError(
                f"at must be a timezone-aware datetime (e.g. datetime.now(timezone.utc)), got {at!r}"
            )
        with self.store.session() as session:
            model = find_model(session, name)
            event = session.scalars(
                select(RegistryEvent)
                .where(
                    RegistryEvent.model_id == model.id,
                    RegistryEvent.alias == alias,
                    RegistryEvent.kind.in_(("alias_set", "alias_moved", "alias_deleted")),
                    RegistryEvent.at <= at,
                )
                .order_by(RegistryEvent.at.desc(), RegistryEvent.id.desc())
                .limit(1)
            ).one_or_none()
            if event is None or event.kind == "alias_deleted":
                return None
            return event.to_version

    def events(
        self, name: str, *, alias: str | None = None, actor: str | None = None
    ) -> list[RegistryEventInfo]:
        """The model's event log, oldest first (only one alias's events when `alias` is given,
        only `actor`'s when `actor` is)."""
        with self.store.session() as session:
            model = find_model(session, name)
            query = select(RegistryEvent).where(RegistryEvent.model_id == model.id)
            if alias is not None:
                query = query.where(RegistryEvent.alias == check_alias(alias))
            if actor is not None:
                query = query.where(RegistryEvent.actor == actor)
            rows = session.scalars(query.order_by(RegistryEvent.at, RegistryEvent.id)).all()
            return [event_info(model, r) for r in rows]

    # loading -----------------------------------------------------------------------------

    def load(
        self,
        name: str,
        version: int,
        *,
        trusted: Sequence[str] | None = None,
        dst: str | None = None,
    ) -> Any:
        """The model object of a version (see `vigil.models.load`)."""
        info, data = self.artifact(name, version)
        return unpack(
            data,
            info.source_format,
            source_name=info.source_name,
            expected_sha256=info.source_sha256,
            trusted=trusted,
            dst=dst,
        )

    # internals ---------------------------------------------------------------------------

    def _ensure_model(
        self,
        session: Session,
        name: str,
        description: str,
        tags: Mapping[str, Any] | None,
        owner: str | None,
    ) -> RegisteredModel:
        """The model named `name`, created if new. Two processes creating it at once: the insert
        is ON CONFLICT DO NOTHING, so one creates it (and logs `model_created`), the other finds it."""
        check_model_name(name)
        query = select(RegisteredModel).where(RegisteredModel.name == name)
        model = session.scalars(query).one_or_none()
        if model is not None:
            return model
        now = _now()
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(RegisteredModel)
            .values(
                name=name,
                description=description,
                tags=clean_tags(tags),
                owner=owner if owner is not None else self.actor,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(RegisteredModel.id)
        )
        created = session.execute(statement).first() is not None
        model = session.scalars(query).one()
        if created:
            self._event(session, model, "model_created", at=now)
        return model

    def _event(
        self,
        session: Session,
        model: RegisteredModel,
        kind: str,
        *,
        alias: str | None = None,
        from_version: int | None = None,
        to_version: int | None = None,
        at: dt.datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> RegistryEvent:
        event = RegistryEvent(
            model_id=model.id,
            kind=kind,
            alias=alias,
            from_version=from_version,
            to_version=to_version,
            actor=self.actor,
            at=at if at is not None else event_time(session, model, _now()),
            details=details or {},
        )
        session.add(event)
        session.flush()
        published = PUBLISHED.get(kind)
        if published is not None:
            emit(
                session,
                published,
                subject=model.name,
                actor=self.actor,
                at=event.at,
                data={
                    "model": model.name,
                    "alias": alias,
                    "from_version": from_version,
                    "to_version": to_version,
                    "registry_event_id": event.id,
                    "details": details or {},
                },
            )
        return event
