"""The registry's domain operations on a `Store`: models, versions, aliases and the event log.

Every change to a model locks its row (PostgreSQL `SELECT ... FOR UPDATE`; SQLite transactions
already start with `BEGIN IMMEDIATE`), so version numbers are handed out once and two processes
moving the same alias queue: each move is one event whose `from_version` is the version the alias
really left, and the alias row always agrees with the last event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from vigil.errors import ConflictError, InvalidInputError
from vigil.profile import DatasetProfile
from vigil.registry.aliases import AliasOperations, VersionRetiredError
from vigil.registry.core import RegistryCore
from vigil.registry.packaging import PackedModel, pack, unpack_version
from vigil.registry.repository import (
    aliases_of,
    event_info,
    find_model,
    model_info,
    version_info,
    version_row,
)
from vigil.registry.stages import StageOperations
from vigil.registry.types import (
    Lifecycle,
    ModelVersionInfo,
    RegisteredModelInfo,
    RegistryEventInfo,
    check_alias,
    check_lifecycle,
    check_model_name,
)
from vigil.registry.values import SchemaLike, clean_metrics, clean_tags, schema_document
from vigil.store.registry_tables import RegisteredModel, RegistryEvent, RegistryModelVersion

__all__ = ["Registry", "VersionRetiredError"]


class Registry(AliasOperations, StageOperations, RegistryCore):
    """Registered models, versions, aliases and their event log, on one store.

    `actor` is who the changes are recorded as: the OS user by default, the token's owner when
    the server makes them. The alias operations are in `vigil.registry.aliases`, MLflow's
    model-version stages in `vigil.registry.stages`; the model row and the event every change
    writes in `vigil.registry.core`.
    """

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
        with self.store.read_session() as session:
            return model_info(session, find_model(session, name))

    def list_models(self) -> list[RegisteredModelInfo]:
        with self.store.read_session() as session:
            models = session.scalars(select(RegisteredModel).order_by(RegisteredModel.name))
            return [model_info(session, m) for m in models]

    def set_model_tags(self, name: str, tags: Mapping[str, Any]) -> RegisteredModelInfo:
        """Replace the model's tags (recorded as a `tags_changed` event)."""
        new = clean_tags(tags)
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            old = dict(model.tags)
            model.tags = new
            model.updated_at = self._now()
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
                created_at=self._now(),
            )
            session.add(row)
            model.updated_at = row.created_at
            self._event(session, model, "version_created", to_version=number)
            session.commit()
            return version_info(session, model, row)

    def get_version(self, name: str, version: int) -> ModelVersionInfo:
        with self.store.read_session() as session:
            model = find_model(session, name)
            return version_info(session, model, version_row(session, model, version))

    def list_versions(
        self, name: str, *, state: Lifecycle | None = None, actor: str | None = None
    ) -> list[ModelVersionInfo]:
        """The model's versions, oldest first; only those in lifecycle `state` (`active`,
        `retired`) and created by `actor` when given."""
        check_lifecycle(state)
        with self.store.read_session() as session:
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
            row.lifecycle, row.retired_by, row.retired_at = "retired", self.actor, self._now()
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
        with self.store.read_session() as session:
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
        with self.store.read_session() as session:
            return version_row(session, find_model(session, name), version)

    def artifact(self, name: str, version: int) -> tuple[ModelVersionInfo, bytes]:
        """A version's record and its source artifact's bytes."""
        info = self.get_version(name, version)
        return info, self.store.artifacts.get(self.get_version_row(name, version).source_key)

    def events(
        self, name: str, *, alias: str | None = None, actor: str | None = None
    ) -> list[RegistryEventInfo]:
        """The model's event log, oldest first (only one alias's events when `alias` is given,
        only `actor`'s when `actor` is)."""
        with self.store.read_session() as session:
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
        return unpack_version(info, data, trusted=trusted, dst=dst)
