"""`client.retention`: a model's retention policy (how long its raw rows, fine windows, resolved
alerts and events are kept), read and replaced; `vigil db compact` and the server apply it.

>>> client.retention.set("churn", rows_days=90, daily_after_days=7)    # doctest: +SKIP
>>> client.retention.get("churn").monthly_after_days                    # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vigil.actors import current_user
from vigil.api.retention import RetentionOut, retention_policy

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.store.core import Store


class RetentionArea(Protocol):
    def get(self, model: str) -> RetentionOut: ...
    def set(
        self,
        model: str,
        *,
        rows_days: int | None = None,
        daily_after_days: int | None = None,
        monthly_after_days: int | None = None,
        alerts_days: int | None = None,
        events_days: int | None = None,
    ) -> RetentionOut: ...


class LocalRetention:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, model: str) -> RetentionOut:
        """The model's policy (every field None, keep for ever, when none was set)."""
        from vigil.ingestion import retention, service

        with self.store.session() as session:
            return service.read_only(session, lambda s: retention.get_policy(s, model))

    def set(
        self,
        model: str,
        *,
        rows_days: int | None = None,
        daily_after_days: int | None = None,
        monthly_after_days: int | None = None,
        alerts_days: int | None = None,
        events_days: int | None = None,
    ) -> RetentionOut:
        """Replace the model's policy: a value left None keeps that data for ever."""
        from vigil.ingestion import retention

        policy = retention_policy(
            rows_days=rows_days,
            daily_after_days=daily_after_days,
            monthly_after_days=monthly_after_days,
            alerts_days=alerts_days,
            events_days=events_days,
        )
        with self.store.session() as session:
            return retention.set_policy(session, model, policy, actor=current_user())


class RemoteRetention:
    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def get(self, model: str) -> RetentionOut:
        """The model's policy (every field None, keep for ever, when none was set)."""
        return self.api.retention.get(model)

    def set(
        self,
        model: str,
        *,
        rows_days: int | None = None,
        daily_after_days: int | None = None,
        monthly_after_days: int | None = None,
        alerts_days: int | None = None,
        events_days: int | None = None,
    ) -> RetentionOut:
        """Replace the model's policy: a value left None keeps that data for ever (needs an
        admin token)."""
        policy = retention_policy(
            rows_days=rows_days,
            daily_after_days=daily_after_days,
            monthly_after_days=monthly_after_days,
            alerts_days=alerts_days,
            events_days=events_days,
        )
        return self.api.retention.put(model, policy)
