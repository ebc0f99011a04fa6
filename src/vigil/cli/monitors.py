"""`vigil monitors apply|list|run` and `vigil alerts list|ack|resolve`.

The store comes from --store / --artifacts, else VIGIL_STORE_URL / VIGIL_ARTIFACTS_URL, else the
defaults under ./.vigil. With --url (or VIGIL_URL) and --token (or VIGIL_TOKEN), every command
goes to a Vigil server instead.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from vigil.cli.common import (
    Backend,
    FullHelpGroup,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
)
from vigil.cli.periods import parse_time

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@contextmanager
def _session(backend: Backend) -> Iterator[Session]:
    with backend.store() as store, store.session() as session:
        yield session


@click.group("monitors", cls=FullHelpGroup)
def monitors_group() -> None:
    """Define monitors in YAML files, list them, evaluate them over a period."""


@monitors_group.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option(
    "--no-prune", is_flag=True, help="Keep stored monitors and channels the file does not name."
)
@backend_options
@format_option()
def apply_command(file: Path, dry_run: bool, no_prune: bool, backend: Backend, fmt: str) -> None:
    """Make the stored monitors and channels those of FILE (idempotent)."""
    from vigil.events.settings import MonitorSettings
    from vigil.monitor.api import Plan, apply, expand_env

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{str(file)!r} is not a monitors YAML file (not UTF-8 text)")
    if backend.remote:
        with backend.api() as api:
            answer = api.monitors.apply(expand_env(text), dry_run=dry_run, prune=not no_prune)
        plan = Plan.model_validate(answer)
    else:
        with backend.store() as store:
            policy = MonitorSettings().outbound_policy()  # VIGIL_OUTBOUND_ALLOW
            plan = apply(store, text, dry_run=dry_run, prune=not no_prune, policy=policy)
    if fmt == "json":
        print_json(plan.model_dump(mode="json"))
        return
    for change in plan.changes:
        click.echo(("would " if dry_run and change.action != "unchanged" else "") + str(change))
    if not plan.changed:
        click.echo("nothing to change")


@monitors_group.command("list")
@click.option("--actor", default=None, help="Only monitors this person created or changed.")
@backend_options
@format_option()
def list_command(actor: str | None, backend: Backend, fmt: str) -> None:
    """List the stored monitors."""
    from vigil.monitor.api import list_monitors
    from vigil.monitor.definitions import Monitor

    if backend.remote:
        with backend.api() as api:
            answer = api.monitors.all({"actor": actor} if actor else {})
        items = [Monitor.model_validate(m) for m in answer]
    else:
        with backend.store() as store:
            items = list_monitors(store, actor=actor)
    if fmt == "json":
        print_json([m.model_dump(mode="json") for m in items])
        return
    print_table(
        ["monitor", "kind", "target", "window", "severity", "channels", "enabled"],
        [
            [m.name, m.kind, m.target.key, m.window, m.severity, ",".join(m.channels), m.enabled]
            for m in items
        ],
        empty="no monitors",
    )


@monitors_group.command("run")
@click.option("--from", "start", required=True, help="Start (ISO time, UTC if no zone).")
@click.option("--to", "end", required=True, help="End, exclusive (ISO time).")
@click.option("--monitor", "names", multiple=True, help="Only this monitor (repeatable).")
@click.option(
    "--deliver/--no-deliver",
    default=True,
    help="Send the resulting notifications (a server queues and sends them by itself).",
)
@backend_options
@format_option()
def run_command(
    start: str, end: str, names: tuple[str, ...], deliver: bool, backend: Backend, fmt: str
) -> None:
    """Evaluate every closed window in [--from, --to) (a backfill); prints breached windows."""
    from vigil.events.delivery import deliver_pending
    from vigil.events.settings import MonitorSettings
    from vigil.monitor.evaluate import backfill

    begin, finish = parse_time(start, "UTC", "--from"), parse_time(end, "UTC", "--to")
    if finish <= begin:
        fail(f"--to ({end}) must be after --from ({start})")
    stats = None
    if backend.remote:
        body = {"start": begin.isoformat(), "end": finish.isoformat(), "monitors": list(names)}
        with backend.api() as api:
            answer = api.monitors.run({k: v for k, v in body.items() if v})
        results = [
            {**r, "window_start": dt.datetime.fromisoformat(r["window_start"])}
            for r in answer["results"]
        ]
    else:
        with backend.store() as store:
            windows = backfill(store, begin, finish, monitors=names or None)
            stats = deliver_pending(store, MonitorSettings()) if deliver else None
        results = [
            {
                "monitor": r.monitor,
                "window_start": r.window_start,
                "value": r.value,
                "lower": r.lower,
                "upper": r.upper,
                "breached": r.breached,
                "message": r.message,
            }
            for r in windows
        ]
    breached = [r for r in results if r["breached"]]
    if fmt == "json":
        print_json({"evaluated": len(results), "breached": len(breached), "results": results})
        return
    if breached:
        print_table(
            ["window", "monitor", "value", "message"],
            [[r["window_start"], r["monitor"], r["value"], r["message"]] for r in breached],
        )
    click.echo(f"{len(results)} windows evaluated, {len(breached)} breached")
    if stats is not None:
        click.echo(
            f"notifications: {stats.sent} sent, {stats.retrying} retrying, {stats.failed} failed"
        )


@click.group("alerts", cls=FullHelpGroup)
def alerts_group() -> None:
    """List, acknowledge and resolve alerts."""


@alerts_group.command("list")
@click.option("--state", type=click.Choice(["open", "acknowledged", "resolved"]), default=None)
@click.option("--monitor", default=None, help="Only this monitor's alerts.")
@click.option("--actor", default=None, help="Only alerts this person acknowledged or resolved.")
@backend_options
@format_option()
def alerts_list(
    state: str | None, monitor: str | None, actor: str | None, backend: Backend, fmt: str
) -> None:
    """List alerts, newest first."""
    from vigil.monitor.alerts import Alert, list_alerts

    if backend.remote:
        params = {k: v for k, v in (("state", state), ("monitor", monitor), ("actor", actor)) if v}
        with backend.api() as api:
            answer = api.alerts.all(params)
        items = [Alert.model_validate(a) for a in answer]
    else:
        with _session(backend) as session:
            items = list_alerts(
                session,
                state=state,  # type: ignore[arg-type]
                monitor=monitor,
                actor=actor,
            )
    if fmt == "json":
        print_json([a.model_dump(mode="json") for a in items])
        return
    print_table(
        ["id", "state", "severity", "monitor", "target", "window", "message"],
        [
            [a.id, a.state, a.severity, a.monitor, a.target, a.last_window_start, a.message]
            for a in items
        ],
        empty="no alerts",
    )


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser()


@alerts_group.command("ack")
@click.argument("alert_id", type=int)
@click.option("--by", "actor", default=None, help="Who acknowledges (default: the OS user).")
@click.option("--note", default="")
@backend_options
def alerts_ack(alert_id: int, actor: str | None, note: str, backend: Backend) -> None:
    """Acknowledge an open alert."""
    from vigil.monitor.alerts import Alert, acknowledge

    if backend.remote:  # the server records the token's owner
        with backend.api() as api:
            alert = Alert.model_validate(api.alerts.act(alert_id, "ack", note))
    else:
        with _session(backend) as session:
            alert = acknowledge(session, alert_id, _actor(actor), note)
    click.echo(f"alert {alert.id} {alert.state}")


@alerts_group.command("resolve")
@click.argument("alert_id", type=int)
@click.option("--by", "actor", default=None, help="Who resolves (default: the OS user).")
@click.option("--note", default="")
@backend_options
def alerts_resolve(alert_id: int, actor: str | None, note: str, backend: Backend) -> None:
    """Resolve an alert by hand."""
    from vigil.monitor.alerts import Alert, resolve

    if backend.remote:  # the server records the token's owner
        with backend.api() as api:
            alert = Alert.model_validate(api.alerts.act(alert_id, "resolve", note))
    else:
        with _session(backend) as session:
            alert = resolve(session, alert_id, _actor(actor), note)
    click.echo(f"alert {alert.id} {alert.state}")
