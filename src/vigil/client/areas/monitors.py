"""`client.monitors` and `client.channels`: monitors (create, change, apply a YAML file, run a
backfill) and the channels their alerts go to.

>>> client.monitors.apply("monitors.yaml", dry_run=True).changes       # doctest: +SKIP
>>> client.monitors.run(start, end).breached                           # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from vigil.client.areas.common import utc
from vigil.errors import ConflictError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.events.channels.definitions import Channel
    from vigil.monitor.api import Change, Plan
    from vigil.monitor.definitions import Monitor
    from vigil.outbound import OutboundPolicy
    from vigil.store.core import Store


class MonitorResult(BaseModel):
    """One monitor evaluated on one window (what `monitors.run` returns per window)."""

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


class MonitorsArea(Protocol):
    """`client.monitors`, the same on a server and on the embedded store."""

    def save(self, monitor: Monitor | Mapping[str, Any]) -> Change: ...
    def create(self, monitor: Monitor | Mapping[str, Any]) -> Change: ...
    def update(self, monitor: Monitor | Mapping[str, Any]) -> Change: ...
    def get(self, name: str) -> Monitor: ...
    def list(self) -> list[Monitor]: ...
    def delete(self, name: str) -> None: ...
    def apply(
        self, file_or_text: str | os.PathLike[str], *, dry_run: bool = False, prune: bool = True
    ) -> Plan: ...
    def run(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        monitors: Sequence[str] | None = None,
        deliver: bool = True,
    ) -> MonitorRun: ...


class ChannelsArea(Protocol):
    """`client.channels`: where alerts are sent."""

    def list(self) -> list[Channel]: ...
    def save(self, channel: Channel | Mapping[str, Any]) -> Change: ...
    def delete(self, name: str) -> None: ...


def as_monitor(value: Monitor | Mapping[str, Any]) -> Monitor:
    from vigil.monitor.definitions import Monitor

    if isinstance(value, Monitor):
        return value
    try:
        return Monitor.model_validate(dict(value))
    except ValueError as exc:
        raise InvalidInputError(f"invalid monitor: {exc}") from None


def as_channel(value: Channel | Mapping[str, Any]) -> Channel:
    from vigil.events.channels.definitions import Channel

    if isinstance(value, Channel):
        return value
    try:
        return Channel.model_validate(dict(value))
    except ValueError as exc:
        raise InvalidInputError(f"invalid channel: {exc}") from None


def yaml_text(file_or_text: str | os.PathLike[str]) -> str:
    """A monitors file's text: a path to a file, or the YAML itself (text with a newline)."""
    if isinstance(file_or_text, os.PathLike) or (
        "\n" not in file_or_text and Path(file_or_text).expanduser().is_file()
    ):
        return Path(file_or_text).expanduser().read_text(encoding="utf-8")
    return file_or_text


def _period(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    begin, finish = utc(start, "start"), utc(end, "end")
    if finish <= begin:
        raise InvalidInputError(
            f"end ({finish.isoformat()}) must be after start ({begin.isoformat()})"
        )
    return begin, finish


def _local_policy() -> OutboundPolicy:
    """In local mode, the outbound policy of this process's VIGIL_* settings."""
    from vigil.events.settings import MonitorSettings

    return MonitorSettings().outbound_policy()


class _CreateUpdate(ABC):
    """`create` and `update` on top of a side's `get` and `save` (written once for both)."""

    @abstractmethod
    def get(self, name: str) -> Monitor: ...

    @abstractmethod
    def save(self, monitor: Monitor | Mapping[str, Any]) -> Change: ...

    def create(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Create a monitor; ConflictError if one has that name."""
        spec = as_monitor(monitor)
        try:
            self.get(spec.name)
        except NotFoundError:
            return self.save(spec)
        raise ConflictError(
            f"a monitor named {spec.name!r} exists; change it with monitors.update",
            name=spec.name,
        )

    def update(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Replace an existing monitor; NotFoundError if there is none of that name."""
        spec = as_monitor(monitor)
        self.get(spec.name)
        return self.save(spec)


class LocalMonitors(_CreateUpdate):
    """Monitors in the embedded store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Create or replace a monitor (its channels must exist); returns what changed."""
        from vigil.monitor import api

        return api.save_monitor(self.store, as_monitor(monitor))

    def get(self, name: str) -> Monitor:
        from vigil.monitor import api

        return api.get_monitor(self.store, name)

    def list(self) -> list[Monitor]:
        from vigil.monitor import api

        return api.list_monitors(self.store)

    def delete(self, name: str) -> None:
        from vigil.monitor import api

        api.delete_monitor(self.store, name)

    def apply(
        self, file_or_text: str | os.PathLike[str], *, dry_run: bool = False, prune: bool = True
    ) -> Plan:
        """Apply a monitors YAML file (a path, or its text): what `vigil monitors apply` does.
        `${NAME}` is replaced from this process's environment."""
        from vigil.monitor import api

        text = yaml_text(file_or_text)
        return api.apply(self.store, text, dry_run=dry_run, prune=prune, policy=_local_policy())

    def run(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        monitors: Sequence[str] | None = None,
        deliver: bool = True,
    ) -> MonitorRun:
        """Evaluate every closed window in [start, end) (a backfill), then send the resulting
        notifications unless `deliver=False`."""
        from vigil.events.delivery import deliver_pending
        from vigil.events.settings import MonitorSettings
        from vigil.monitor.evaluate import backfill

        begin, finish = _period(start, end)
        names = list(monitors) if monitors is not None else None
        results = backfill(self.store, begin, finish, monitors=names, progress=None)
        if deliver:
            deliver_pending(self.store, MonitorSettings())
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


class RemoteMonitors(_CreateUpdate):
    """Monitors on a Vigil server."""

    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def save(self, monitor: Monitor | Mapping[str, Any]) -> Change:
        """Create or replace a monitor (its channels must exist); returns what changed."""
        from vigil.monitor.api import Change

        spec = as_monitor(monitor)
        return Change.model_validate(
            self.api.monitors.save(spec.name, spec.model_dump(mode="json"))
        )

    def get(self, name: str) -> Monitor:
        from vigil.monitor.definitions import Monitor

        return Monitor.model_validate(self.api.monitors.get(name))

    def list(self) -> list[Monitor]:
        from vigil.monitor.definitions import Monitor

        return [Monitor.model_validate(m) for m in self.api.monitors.all()]

    def delete(self, name: str) -> None:
        self.api.monitors.delete(name)

    def apply(
        self, file_or_text: str | os.PathLike[str], *, dry_run: bool = False, prune: bool = True
    ) -> Plan:
        """Apply a monitors YAML file (a path, or its text); `${NAME}` is replaced from this
        process's environment. Needs an admin token."""
        from vigil.monitor.api import Plan, expand_env

        text = expand_env(yaml_text(file_or_text))
        return Plan.model_validate(self.api.monitors.apply(text, dry_run=dry_run, prune=prune))

    def run(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        monitors: Sequence[str] | None = None,
        deliver: bool = True,
    ) -> MonitorRun:
        """Evaluate every closed window in [start, end) (a backfill); the server's scheduler
        sends the notifications (`deliver` does not apply)."""
        begin, finish = _period(start, end)
        names = list(monitors) if monitors is not None else None
        body = {"start": begin.isoformat(), "end": finish.isoformat(), "monitors": names}
        return MonitorRun.model_validate(self.api.monitors.run(body))


class LocalChannels:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> list[Channel]:
        """The channels, as stored."""
        from vigil.monitor import api

        return api.list_channels(self.store)

    def save(self, channel: Channel | Mapping[str, Any]) -> Change:
        """Create or replace a channel."""
        from vigil.monitor import api

        return api.save_channel(self.store, as_channel(channel), policy=_local_policy())

    def delete(self, name: str) -> None:
        from vigil.monitor import api

        api.delete_channel(self.store, name)


class RemoteChannels:
    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def list(self) -> list[Channel]:
        """The channels, with secrets, passwords and routing keys as `***`."""
        from vigil.events.channels.definitions import Channel

        return [Channel.model_validate(c) for c in self.api.channels.all()]

    def save(self, channel: Channel | Mapping[str, Any]) -> Change:
        """Create or replace a channel (an admin token)."""
        from vigil.monitor.api import Change

        spec = as_channel(channel)
        return Change.model_validate(
            self.api.channels.save(spec.name, spec.model_dump(mode="json"))
        )

    def delete(self, name: str) -> None:
        self.api.channels.delete(name)
