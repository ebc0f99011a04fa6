"""What every registry change shares: the store, who acts, the model row (created once however
many processes ask), and the event each change records, published to the outbox when other
systems hear of it (same transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.actors import current_user
from vigil.events.outbox import EventType, emit
from vigil.registry.repository import event_time
from vigil.registry.types import check_model_name
from vigil.registry.values import clean_tags
from vigil.store.registry_tables import RegisteredModel, RegistryEvent
from vigil.store.sql import insert_for, utcnow

if TYPE_CHECKING:
    from vigil.store.core import Store


PUBLISHED: dict[str, EventType] = {
    "version_created": "model.version_created",
    "alias_set": "model.alias_moved",
    "alias_moved": "model.alias_moved",
    "alias_deleted": "model.alias_deleted",
    "version_retired": "model.version_retired",
    "version_restored": "model.version_restored",
}
"""Registry event kinds that other systems hear about (in the outbox, same transaction)."""


class RegistryCore:
    """The store and actor of a `Registry`, and the two writes every operation builds on."""

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or current_user()

    @staticmethod
    def _now() -> dt.datetime:
        """The time recorded for a change (tests replace this clock)."""
        return utcnow()

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
        now = self._now()
        statement = (
            insert_for(session, RegisteredModel)
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
            at=at if at is not None else event_time(session, model, self._now()),
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
