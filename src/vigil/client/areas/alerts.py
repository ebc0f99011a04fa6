"""`client.alerts`: alerts, newest first, with their history; acknowledge and resolve them.

>>> [a.message for a in client.alerts.list(state="open")]              # doctest: +SKIP
>>> client.alerts.ack(alert_id, "looking into it")                     # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from vigil.client.areas.common import FormerMethod, params

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.monitor.alerts import Alert, AlertState
    from vigil.store.core import Store


class AlertsArea(Protocol):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: the former `Client` method of this name (see `FormerMethod`)."""

    def list(
        self, *, state: AlertState | None = None, monitor: str | None = None, limit: int = 100
    ) -> list[Alert]: ...
    def get(self, alert_id: int) -> Alert: ...
    def ack(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert: ...
    def resolve(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert: ...


class _Former(FormerMethod):
    AREA = "alerts"
    FORMER = "list"


class LocalAlerts(_Former):
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(
        self, *, state: AlertState | None = None, monitor: str | None = None, limit: int = 100
    ) -> list[Alert]:
        """Alerts, newest first, with their history."""
        from vigil.monitor.alerts import list_alerts

        with self.store.session() as session:
            return list_alerts(session, state=state, monitor=monitor, limit=limit)

    def get(self, alert_id: int) -> Alert:
        from vigil.monitor.alerts import get_alert

        with self.store.session() as session:
            return get_alert(session, alert_id)

    def ack(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert:
        """Acknowledge an open alert, recorded as `by` (default: the OS user)."""
        from vigil.actors import current_user
        from vigil.monitor.alerts import acknowledge

        with self.store.session() as session:
            return acknowledge(session, alert_id, by or current_user(), note)

    def resolve(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert:
        """Resolve an active alert by hand (recorded as in `ack`)."""
        from vigil.actors import current_user
        from vigil.monitor.alerts import resolve

        with self.store.session() as session:
            return resolve(session, alert_id, by or current_user(), note)


class RemoteAlerts(_Former):
    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def list(
        self, *, state: AlertState | None = None, monitor: str | None = None, limit: int = 100
    ) -> list[Alert]:
        """Alerts, newest first, with their history."""
        from vigil.monitor.alerts import Alert

        query = params(state=state, monitor=monitor, limit=limit)
        return [Alert.model_validate(a) for a in self.api.alerts.all(query)]

    def get(self, alert_id: int) -> Alert:
        from vigil.monitor.alerts import Alert

        return Alert.model_validate(self.api.alerts.get(alert_id))

    def ack(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert:
        """Acknowledge an open alert, recorded as the token's owner (`by` does not apply)."""
        from vigil.monitor.alerts import Alert

        return Alert.model_validate(self.api.alerts.act(alert_id, "ack", note))

    def resolve(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert:
        """Resolve an active alert by hand, recorded as the token's owner."""
        from vigil.monitor.alerts import Alert

        return Alert.model_validate(self.api.alerts.act(alert_id, "resolve", note))
