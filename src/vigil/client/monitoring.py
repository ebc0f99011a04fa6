"""The Client's monitoring methods: monitors, channels, backfills, alerts, KPI series and
comparisons, version comparisons. The same methods work on a server (HTTP) and on a local store.

>>> client = vigil.Client("http://vigil:8000", token="vgl_...")       # doctest: +SKIP
>>> client.apply_monitors("monitors.yaml", dry_run=True).changes       # doctest: +SKIP
>>> [a.message for a in client.alerts(state="open")]                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from vigil.client.transport import (
    HttpTransport,
    LocalTransport,
    ServerUnavailableError,
    Transport,
    UnavailableError,
    _q,
)
from vigil.errors import ConflictError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from vigil.events.channels.definitions import Channel
    from vigil.kpi import KpiComparison, KpiSeries
    from vigil.monitor.alerts import Alert, AlertState
    from vigil.monitor.api import Change, Plan
    from vigil.monitor.definitions import Monitor
    from vigil.outbound import OutboundPolicy
    from vigil.store.core import Store

T = TypeVar("T")


def _local_policy() -> OutboundPolicy:
    """In local mode, the outbound policy of this process's VIGIL_* settings."""
    from vigil.events.settings import MonitorSettings

    return MonitorSettings().outbound_policy()


class MonitorResult(BaseModel):
    """One monitor evaluated on one window (what `run_monitors` returns per window)."""

    model_config = ConfigDict(frozen=True)

    monitor: str
    window_start: dt.datetime
    value: float | None
    lower: float | None
    upper: float | None
    breached: bool
    message: str


class MonitorRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    evaluated: int
    breached: int
    results: tuple[MonitorResult, ...]


def _utc(value: dt.datetime, label: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise InvalidInputError(f"{label} must be a datetime, got {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _params(**values: Any) -> dict[str, str]:
    return {
        k: _utc(v, k).isoformat() if isinstance(v, dt.datetime) else str(v)
        for k, v in values.items()
        if v is not None
    }


def _monitor(value: Monitor | Mapping[str, Any]) -> Monitor:
    from vigil.monitor.definitions import Monitor

    if isinstance(value, Monitor):
        return value
    try:
        return Monitor.model_validate(dict(value))
    except ValueError as exc:
        raise InvalidInputError(f"invalid monitor: {exc}") from None


def _channel(value: Channel | Mapping[str, Any]) -> Channel:
    from vigil.events.channels.definitions import Channel

    if isinstance(value, Channel):
        return value
    try:
        return Channel.model_validate(dict(value))
    except ValueError as exc:
        raise InvalidInputError(f"invalid channel: {exc}") from None


def _yaml_text(file_or_text: str | os.PathLike[str]) -> str:
    """A monitors file's text: a path to a file, or the YAML itself (text with a newline)."""
    if isinstance(file_or_text, os.PathLike) or (
        "\n" not in file_or_text and Path(file_or_text).expanduser().is_file()
    ):
        return Path(file_or_text).expanduser().read_text(encoding="utf-8")
    return file_or_text


def _delete(transport: HttpTransport, path: str) -> None:
    transport._request("DELETE", path)


class MonitoringMethods:
    """Mixed into `vigil.Client`: each method goes to the server or to the local store."""

    url: str
    _transport: Transport

    def _monitoring(self, http: Callable[[HttpTransport], T], local: Callable[[Store], T]) -> T:
        transport = self._transport
        try:
            if isinstance(transport, HttpTransport):
                return http(transport)
            assert isinstance(transport, LocalTransport)
            return local(transport.store)
        except UnavailableError as exc:
            raise ServerUnavailableError(str(exc), url=self.url) from None

    # monitors -----------------------------------------------------------------------------

    def save_monitor(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Create or replace a monitor (its channels must exist); returns what changed."""
        from vigil.monitor import api

        spec = _monitor(monitor)
        return self._monitoring(
            lambda h: api.Change.model_validate(
                h._request(
                    "PUT", f"/api/v1/monitors/{_q(spec.name)}", json=spec.model_dump(mode="json")
                ).json()
            ),
            lambda store: api.save_monitor(store, spec),
        )

    def create_monitor(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Create a monitor; ConflictError if one has that name."""
        spec = _monitor(monitor)
        try:
            self.get_monitor(spec.name)
        except NotFoundError:
            return self.save_monitor(spec)
        raise ConflictError(
            f"a monitor named {spec.name!r} exists; change it with update_monitor",
            name=spec.name,
        )

    def update_monitor(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Replace an existing monitor; NotFoundError if there is none of that name."""
        spec = _monitor(monitor)
        self.get_monitor(spec.name)
        return self.save_monitor(spec)

    def get_monitor(self, name: str) -> Monitor:
        from vigil.monitor import api
        from vigil.monitor.definitions import Monitor

        return self._monitoring(
            lambda h: Monitor.model_validate(
                h._request("GET", f"/api/v1/monitors/{_q(name)}").json()
            ),
            lambda store: api.get_monitor(store, name),
        )

    def list_monitors(self) -> list[Monitor]:
        from vigil.monitor import api
        from vigil.monitor.definitions import Monitor

        return self._monitoring(
            lambda h: [
                Monitor.model_validate(m) for m in h._request("GET", "/api/v1/monitors").json()
            ],
            lambda store: api.list_monitors(store),
        )

    def delete_monitor(self, name: str) -> None:
        from vigil.monitor import api

        self._monitoring(
            lambda h: _delete(h, f"/api/v1/monitors/{_q(name)}"),
            lambda store: api.delete_monitor(store, name),
        )

    def apply_monitors(
        self, file_or_text: str | os.PathLike[str], *, dry_run: bool = False, prune: bool = True
    ) -> Plan:
        """Apply a monitors YAML file (a path, or its text): what `vigil monitors apply` does.
        `${NAME}` is replaced from this process's environment. Over HTTP it needs an admin token."""
        from vigil.monitor import api

        text = _yaml_text(file_or_text)
        return self._monitoring(
            lambda h: api.Plan.model_validate(
                h._request(
                    "POST",
                    "/api/v1/monitors/apply",
                    json={"yaml": api.expand_env(text), "dry_run": dry_run, "prune": prune},
                ).json()
            ),
            lambda store: api.apply(
                store, text, dry_run=dry_run, prune=prune, policy=_local_policy()
            ),
        )

    def run_monitors(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        monitors: Sequence[str] | None = None,
        deliver: bool = True,
    ) -> MonitorRun:
        """Evaluate every closed window in [start, end) (a backfill). Locally, the resulting
        notifications are sent unless `deliver=False`; a server's scheduler sends its own."""
        begin, finish = _utc(start, "start"), _utc(end, "end")
        if finish <= begin:
            raise InvalidInputError(
                f"end ({finish.isoformat()}) must be after start ({begin.isoformat()})"
            )
        names = list(monitors) if monitors is not None else None

        def http(h: HttpTransport) -> MonitorRun:
            body = {"start": begin.isoformat(), "end": finish.isoformat(), "monitors": names}
            return MonitorRun.model_validate(
                h._request("POST", "/api/v1/monitors/run", json=body).json()
            )

        def local(store: Store) -> MonitorRun:
            from vigil.events.delivery import deliver_pending
            from vigil.events.settings import MonitorSettings
            from vigil.monitor.evaluate import backfill

            results = backfill(store, begin, finish, monitors=names)
            if deliver:
                deliver_pending(store, MonitorSettings())
            return MonitorRun(
                evaluated=len(results),
                breached=sum(r.breached for r in results),
                results=tuple(
                    MonitorResult(
                        monitor=r.monitor,
                        window_start=r.window_start,
                        value=r.value,
                        lower=r.lower,
                        upper=r.upper,
                        breached=r.breached,
                        message=r.message,
                    )
                    for r in results
                ),
            )

        return self._monitoring(http, local)

    # channels -----------------------------------------------------------------------------

    def list_channels(self) -> list[Channel]:
        """The channels (from a server, with secrets, passwords and routing keys as `***`)."""
        from vigil.events.channels.definitions import Channel
        from vigil.monitor import api

        return self._monitoring(
            lambda h: [
                Channel.model_validate(c) for c in h._request("GET", "/api/v1/channels").json()
            ],
            lambda store: api.list_channels(store),
        )

    def save_channel(self, channel: Channel | Mapping[str, Any]) -> Change:
        """Create or replace a channel (over HTTP: an admin token)."""
        from vigil.monitor import api

        spec = _channel(channel)
        return self._monitoring(
            lambda h: api.Change.model_validate(
                h._request(
                    "PUT", f"/api/v1/channels/{_q(spec.name)}", json=spec.model_dump(mode="json")
                ).json()
            ),
            lambda store: api.save_channel(store, spec, policy=_local_policy()),
        )

    def delete_channel(self, name: str) -> None:
        from vigil.monitor import api

        self._monitoring(
            lambda h: _delete(h, f"/api/v1/channels/{_q(name)}"),
            lambda store: api.delete_channel(store, name),
        )

    # alerts -------------------------------------------------------------------------------

    def alerts(
        self,
        *,
        state: AlertState | None = None,
        monitor: str | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Alerts, newest first, with their history."""
        from vigil.monitor import alerts as store_alerts
        from vigil.monitor.alerts import Alert

        def local(store: Store) -> list[Alert]:
            with store.session() as session:
                return store_alerts.list_alerts(session, state=state, monitor=monitor, limit=limit)

        params = _params(state=state, monitor=monitor, limit=limit)
        return self._monitoring(
            lambda h: [
                Alert.model_validate(a)
                for a in h._request("GET", "/api/v1/alerts", params=params).json()
            ],
            local,
        )

    def get_alert(self, alert_id: int) -> Alert:
        from vigil.monitor import alerts as store_alerts
        from vigil.monitor.alerts import Alert

        def local(store: Store) -> Alert:
            with store.session() as session:
                return store_alerts.get_alert(session, alert_id)

        return self._monitoring(
            lambda h: Alert.model_validate(h._request("GET", f"/api/v1/alerts/{alert_id}").json()),
            local,
        )

    def ack_alert(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert:
        """Acknowledge an open alert. Locally recorded as `by` (default: the OS user); through a
        server, as the token's owner."""
        return self._alert_action(alert_id, "ack", note, by)

    def resolve_alert(self, alert_id: int, note: str = "", *, by: str | None = None) -> Alert:
        """Resolve an active alert by hand (recorded as in `ack_alert`)."""
        return self._alert_action(alert_id, "resolve", note, by)

    def _alert_action(self, alert_id: int, action: str, note: str, by: str | None) -> Alert:
        from vigil.monitor import alerts as store_alerts
        from vigil.monitor.alerts import Alert
        from vigil.registry.values import current_user

        def local(store: Store) -> Alert:
            act = store_alerts.acknowledge if action == "ack" else store_alerts.resolve
            with store.session() as session:
                return act(session, alert_id, by or current_user(), note)

        return self._monitoring(
            lambda h: Alert.model_validate(
                h._request(
                    "POST", f"/api/v1/alerts/{alert_id}/{action}", json={"note": note}
                ).json()
            ),
            local,
        )

    # KPIs and versions ----------------------------------------------------------------------

    def kpi_series(
        self,
        name: str,
        model: str,
        *,
        version: str | None = None,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiSeries:
        """KPI `name` of `model` per version (or one) and window: count, sum, mean, std, ..."""
        from vigil import kpi

        params = _params(
            name=name, model=model, version=version, window=window, start=start, end=end
        )

        def local(store: Store) -> KpiSeries:
            with store.session() as session:
                return kpi.series(
                    session, name, model, version=version, window=window, start=start, end=end
                )

        return self._monitoring(
            lambda h: kpi.KpiSeries.from_dict(
                h._request("GET", "/api/v1/kpis/series", params=params).json()
            ),
            local,
        )

    def compare_kpi(
        self,
        name: str,
        model: str,
        *,
        a: str,
        b: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiComparison:
        """KPI `name` of `model`'s version `b` against version `a` over [start, end): difference,
        relative change and Welch's t-test p-value."""
        from vigil import kpi

        params = _params(name=name, model=model, a=a, b=b, start=start, end=end)

        def local(store: Store) -> KpiComparison:
            with store.session() as session:
                return kpi.compare(session, name, model, a, b, start=start, end=end)

        return self._monitoring(
            lambda h: kpi.KpiComparison.from_dict(
                h._request("GET", "/api/v1/kpis/compare", params=params).json()
            ),
            local,
        )

    def version_comparison(
        self, model: str, version: int, *, against: str = "previous", top_k: int = 3
    ) -> dict[str, Any]:
        """Registered version `version` of `model` against the previous version or an alias's
        holder: quality metrics, feature importance, training data (as in the REST API)."""
        from vigil.monitor.versions import compare_versions

        path = f"/api/v1/registry/models/{_q(model)}/versions/{int(version)}/comparison"
        params = _params(against=against, top_k=top_k)
        return self._monitoring(
            lambda h: dict(h._request("GET", path, params=params).json()),
            lambda store: compare_versions(
                store, model, version, against=against, top_k=top_k
            ).to_dict(),
        )
