"""Create, change, list and delete monitors and channels; apply a YAML file of them (kept in git).

>>> from vigil import monitors
>>> monitors.apply(store, open("monitors.yaml").read(), dry_run=True)      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.actors import current_user
from vigil.errors import InvalidInputError, NotFoundError
from vigil.events.channels import check_channel, keep_secrets
from vigil.events.channels.definitions import NAME_PATTERN, Channel
from vigil.events.outbox import EventType, emit
from vigil.monitor.baselines import BASELINE_ARTIFACT_PREFIX
from vigil.monitor.definitions import Monitor, MonitorFile
from vigil.outbound import OutboundPolicy
from vigil.profile import DatasetProfile
from vigil.store.core import Store
from vigil.store.monitor_tables import ChannelRow, MonitorRow
from vigil.store.repositories import ModelRepository, spec_of, utcnow
from vigil.windows import CALENDAR_UNITS, Grid

Action = Literal["create", "update", "delete", "unchanged"]


class Change(BaseModel):
    """One change that `apply` makes (or would make, in a dry run)."""

    model_config = ConfigDict(frozen=True)

    object: Literal["monitor", "channel"]
    name: str
    action: Action
    fields: tuple[str, ...] = ()
    """Top-level fields that differ (updates)."""

    def __str__(self) -> str:
        changed = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.action} {self.object} {self.name}{changed}"


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    changes: tuple[Change, ...]
    applied: bool

    @property
    def changed(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)


def _dump(item: Monitor | Channel) -> dict[str, Any]:
    return item.model_dump(mode="json")


ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace each `${NAME}` with the environment variable NAME, so that secrets (webhook
    secrets, SMTP passwords, routing keys) stay out of the file kept in git."""
    env = os.environ if environ is None else environ
    missing = sorted({m for m in ENV_REFERENCE.findall(text) if m not in env})
    if missing:
        raise InvalidInputError(
            f"the monitors file refers to environment variables that are not set: {missing}",
            variables=missing,
        )
    return ENV_REFERENCE.sub(lambda m: env[m.group(1)], text)


def parse_file(text: str, environ: Mapping[str, str] | None = None) -> MonitorFile:
    """Parse and validate a monitors YAML document (`channels:` and `monitors:` lists), with
    `${NAME}` replaced by environment variables."""
    try:
        data = yaml.safe_load(expand_env(text, environ)) or {}
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"the monitors file is not valid YAML: {exc}") from None
    try:
        return MonitorFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(
            f"invalid monitors file at {where or 'top level'}: {first['msg']}",
            errors=len(exc.errors()),
        ) from None


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)))


def _plan(
    session: Session, spec: MonitorFile, *, prune: bool
) -> list[tuple[Change, Monitor | Channel | None]]:
    plan: list[tuple[Change, Monitor | Channel | None]] = []
    tables: tuple[tuple[Literal["monitor", "channel"], Any, tuple[Any, ...]], ...] = (
        ("channel", ChannelRow, spec.channels),
        ("monitor", MonitorRow, spec.monitors),
    )
    for label, table, items in tables:
        stored = {r.name: r for r in session.scalars(select(table)).all()}
        for item in items:
            row = stored.get(item.name)
            if row is None:
                plan.append((Change(object=label, name=item.name, action="create"), item))
                continue
            if isinstance(item, Channel):  # secrets left out or sent back masked are kept
                item = keep_secrets(item, row.definition)
            fields = _diff(row.definition, _dump(item))
            action: Action = "update" if fields else "unchanged"
            plan.append((Change(object=label, name=item.name, action=action, fields=fields), item))
        if prune:
            wanted = {i.name for i in items}
            for name in sorted(set(stored) - wanted):
                plan.append((Change(object=label, name=name, action="delete"), None))
    return plan


def _check_windows(session: Session, spec: MonitorFile) -> None:
    for monitor in spec.monitors:
        model = ModelRepository(session).find(monitor.target.model)
        if model is None:
            continue
        model_grid = spec_of(model).grid
        if not monitor.grid.nests(model_grid):
            unit = monitor.grid.unit
            zoned = Grid(unit, None, model_grid.tz) if unit in CALENDAR_UNITS else None
            hint = (
                f"use {zoned} (the model's time zone)" if zoned and zoned.nests(model_grid) else ""
            )
            raise InvalidInputError(
                f"monitor {monitor.name!r} has {monitor.grid} windows, which are not made of "
                f"model {model.name!r}'s {model_grid} windows; {hint or 'choose a longer window'}",
                monitor=monitor.name,
            )


def _check_channels(session: Session, spec: MonitorFile, prune: bool) -> None:
    _check_windows(session, spec)
    known = {c.name for c in spec.channels}
    if not prune:
        known |= set(session.scalars(select(ChannelRow.name)).all())
    for monitor in spec.monitors:
        unknown = [c for c in monitor.channels if c not in known]
        if unknown:
            raise InvalidInputError(
                f"monitor {monitor.name!r} names channels {unknown} that are not defined; "
                f"define them under `channels:` (known: {sorted(known)})",
                monitor=monitor.name,
            )


def _check_addresses(
    plan: list[tuple[Change, Monitor | Channel | None]], policy: OutboundPolicy | None
) -> None:
    """Each channel's address against the outbound policy (the default one refuses loopback,
    private, link-local... addresses): OutboundAddressError (422) naming the rule."""
    for _, item in plan:
        if isinstance(item, Channel):
            check_channel(item, policy or OutboundPolicy())


def apply(
    store: Store,
    text: str,
    *,
    dry_run: bool = False,
    prune: bool = True,
    actor: str | None = None,
    policy: OutboundPolicy | None = None,
) -> Plan:
    """Make the stored monitors and channels those of the YAML `text`: create, update and (with
    `prune`) delete. Applying the same file again changes nothing. `dry_run` only reports.
    Changes are recorded as `actor` (the OS user by default). Channels' addresses must pass
    `policy` (`MonitorSettings.outbound_policy()`; by default the strict policy)."""
    spec = parse_file(text)
    who = actor or current_user()
    with store.session() as session:
        _check_channels(session, spec, prune)
        plan = _plan(session, spec, prune=prune)
        _check_addresses(plan, policy)
        if not dry_run:
            for change, item in plan:
                _execute(session, change, item, who)
            session.commit()
    return Plan(changes=tuple(c for c, _ in plan), applied=not dry_run)


_MONITOR_EVENTS: dict[str, EventType] = {
    "create": "monitor.created",
    "update": "monitor.updated",
    "delete": "monitor.deleted",
}


def _execute(session: Session, change: Change, item: Monitor | Channel | None, actor: str) -> None:
    table: Any = MonitorRow if change.object == "monitor" else ChannelRow
    now = utcnow()
    if change.action == "create":
        assert item is not None
        session.add(
            table(
                name=item.name,
                definition=_dump(item),
                created_at=now,
                updated_at=now,
                created_by=actor,
                updated_by=actor,
            )
        )
    elif change.action in ("update", "delete"):
        row = session.scalars(select(table).where(table.name == change.name)).one()
        if change.action == "delete":
            session.delete(row)
        else:
            assert item is not None
            row.definition = _dump(item)
            row.updated_at = now
            row.updated_by = actor
            if isinstance(row, MonitorRow) and _resets(change.fields):
                row.evaluated_until = None
    if change.object == "monitor" and change.action in _MONITOR_EVENTS:
        # Channels are not published: their definitions hold secrets.
        emit(
            session,
            _MONITOR_EVENTS[change.action],
            subject=change.name,
            actor=actor,
            data={"monitor": change.name, "fields": list(change.fields)},
        )


def _resets(fields: tuple[str, ...]) -> bool:
    """Whether a monitor's change makes its past evaluation meaningless (start over)."""
    return bool(set(fields) & {"kind", "target", "window"})


# -- one at a time -----------------------------------------------------------------------------


def save_monitor(store: Store, monitor: Monitor, *, actor: str | None = None) -> Change:
    """Create or replace one monitor (recorded as `actor`, the OS user by default)."""
    with store.session() as session:
        spec = MonitorFile(monitors=(monitor,))
        _check_channels(session, spec, prune=False)
        change, item = _plan(session, spec, prune=False)[0]
        _execute(session, change, item, actor or current_user())
        session.commit()
    return change


def save_channel(
    store: Store,
    channel: Channel,
    *,
    actor: str | None = None,
    policy: OutboundPolicy | None = None,
) -> Change:
    """Create or replace one channel (its address must pass `policy`, by default the strict
    one); secrets the update leaves out or sends back masked keep their stored values."""
    with store.session() as session:
        plan = _plan(session, MonitorFile(channels=(channel,)), prune=False)
        _check_addresses(plan, policy)
        change, item = plan[0]
        _execute(session, change, item, actor or current_user())
        session.commit()
    return change


def _row(session: Session, table: Any, name: str, label: str) -> Any:
    row = session.scalars(select(table).where(table.name == name)).first()
    if row is None:
        raise NotFoundError(f"no {label} named {name!r}", name=name)
    return row


def get_monitor(store: Store, name: str) -> Monitor:
    with store.read_session() as session:
        return Monitor.model_validate(_row(session, MonitorRow, name, "monitor").definition)


def list_monitors(store: Store, *, actor: str | None = None) -> list[Monitor]:
    """The monitors by name; `actor`: only those this person created or last changed."""
    with store.read_session() as session:
        query = select(MonitorRow)
        if actor is not None:
            query = query.where((MonitorRow.created_by == actor) | (MonitorRow.updated_by == actor))
        rows = session.scalars(query.order_by(MonitorRow.name)).all()
        return [Monitor.model_validate(r.definition) for r in rows]


def list_channels(store: Store) -> list[Channel]:
    with store.read_session() as session:
        rows = session.scalars(select(ChannelRow).order_by(ChannelRow.name)).all()
        return [Channel.model_validate(r.definition) for r in rows]


def delete_monitor(store: Store, name: str, *, actor: str | None = None) -> None:
    with store.session() as session:
        session.delete(_row(session, MonitorRow, name, "monitor"))
        emit(
            session,
            "monitor.deleted",
            subject=name,
            actor=actor or current_user(),
            data={"monitor": name, "fields": []},
        )
        session.commit()


def delete_channel(store: Store, name: str) -> None:
    with store.session() as session:
        session.delete(_row(session, ChannelRow, name, "channel"))
        session.commit()


def save_baseline_profile(store: Store, name: str, profile: DatasetProfile) -> str:
    """Store a reference profile (e.g. of the training data) for `baseline: {type: profile,
    artifact: KEY}`; returns KEY."""
    if not re.match(NAME_PATTERN, name):
        raise InvalidInputError(f"baseline name {name!r} must match {NAME_PATTERN}")
    key = f"{BASELINE_ARTIFACT_PREFIX}{name}.vgp"
    store.artifacts.put(key, profile.to_bytes())
    return key


def evaluated_until(store: Store, name: str) -> dt.datetime | None:
    with store.read_session() as session:
        row: MonitorRow = _row(session, MonitorRow, name, "monitor")
        return row.evaluated_until
