"""Aliases of a registered model: read one, move it (after the promotion gates), delete it, and
where it pointed at a past time. Each move is one event in the model's log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from vigil.errors import ConflictError, InvalidInputError, NotFoundError, PromotionRefusedError
from vigil.profile import DatasetProfile
from vigil.registry.core import RegistryCore
from vigil.registry.gates import Gates, evaluate
from vigil.registry.repository import (
    alias_row,
    aliases_of,
    event_info,
    event_time,
    find_model,
    version_info,
    version_row,
)
from vigil.registry.types import ModelVersionInfo, RegistryEventInfo, check_alias, check_version
from vigil.store.registry_tables import RegistryAlias, RegistryEvent


class VersionRetiredError(ConflictError):
    """An alias was asked to point at a retired version."""

    code = "version_retired"


class AliasOperations(RegistryCore):
    """The alias operations of `Registry`."""

    def get_alias(self, name: str, alias: str) -> ModelVersionInfo:
        """The version `alias` points at now."""
        check_alias(alias)
        with self.store.read_session() as session:
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
                now = event_time(session, model, self._now())
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
        with self.store.read_session() as session:
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
