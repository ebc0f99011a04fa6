"""`vigil monitors apply|list|run` and `vigil alerts list|ack|resolve`.

The store comes from --store / --artifacts, else VIGIL_STORE_URL / VIGIL_ARTIFACTS_URL, else the
defaults under ./.vigil. With --url (or VIGIL_URL) and --token (or VIGIL_TOKEN), `apply`, `list`
and the alerts commands go to a Vigil server instead.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vigil.cli.common import (
    FullHelpGroup,
    artifacts_option,
    fail,
    store_option,
    token_option,
    url_option,
)
from vigil.errors import VigilError

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.store.core import Store


def _store_options(command: F) -> F:
    return store_option(artifacts_option(command))


@contextmanager
def _opened(store_url: str, artifacts_url: str) -> Iterator[Store]:
    from vigil.store.core import Store

    try:
        store = Store.open(store_url, artifacts_url)
    except VigilError as exc:
        fail(exc)
    try:
        yield store
    except VigilError as exc:
        fail(exc)
    finally:
        store.close()


def _time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO time like 2026-01-31T00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@contextmanager
def _server(url: str, token: str | None) -> Iterator[VigilApi]:
    """A Vigil server's API; an error answer becomes `error: MESSAGE`, exit code 2."""
    from vigil.api.client import VigilApi

    try:
        with VigilApi(url, token, timeout=300) as api:
            yield api
    except VigilError as exc:
        fail(exc)


@click.group("monitors", cls=FullHelpGroup)
def monitors_group() -> None:
    """Define monitors in YAML files, list them, evaluate them over a period."""


@monitors_group.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option(
    "--no-prune", is_flag=True, help="Keep stored monitors and channels the file does not name."
)
@_store_options
@url_option
@token_option
def apply_command(
    file: Path,
    dry_run: bool,
    no_prune: bool,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """Make the stored monitors and channels those of FILE (idempotent)."""
    from vigil.events.settings import MonitorSettings
    from vigil.monitor.api import Plan, apply, expand_env

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{str(file)!r} is not a monitors YAML file (not UTF-8 text)")
    if url:
        with _server(url, token) as api:
            answer = api.monitors.apply(expand_env(text), dry_run=dry_run, prune=not no_prune)
        plan = Plan.model_validate(answer)
    else:
        with _opened(store_url, artifacts_url) as store:
            policy = MonitorSettings().outbound_policy()  # VIGIL_OUTBOUND_ALLOW
            plan = apply(store, text, dry_run=dry_run, prune=not no_prune, policy=policy)
    for change in plan.changes:
        click.echo(("would " if dry_run and change.action != "unchanged" else "") + str(change))
    if not plan.changed:
        click.echo("nothing to change")


@monitors_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--actor", default=None, help="Only monitors this person created or changed.")
@_store_options
@url_option
@token_option
def list_command(
    fmt: str,
    actor: str | None,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """List the stored monitors."""
    from vigil.monitor.api import list_monitors
    from vigil.monitor.definitions import Monitor

    if url:
        with _server(url, token) as api:
            answer = api.monitors.all({"actor": actor} if actor else {})
        items = [Monitor.model_validate(m) for m in answer]
    else:
        with _opened(store_url, artifacts_url) as store:
            items = list_monitors(store, actor=actor)
    if fmt == "json":
        click.echo(json.dumps([m.model_dump(mode="json") for m in items], indent=2))
        return
    for m in items:
        channels = ",".join(m.channels) or "-"
        click.echo(
            f"{m.name}\t{m.kind}\t{m.target.key}\t{m.window}\t{m.severity}\t{channels}"
            + ("" if m.enabled else "\tdisabled")
        )


@monitors_group.command("run")
@click.option("--from", "start", required=True, help="Start (ISO time, UTC if no zone).")
@click.option("--to", "end", required=True, help="End, exclusive (ISO time).")
@click.option("--monitor", "names", multiple=True, help="Only this monitor (repeatable).")
@click.option("--deliver/--no-deliver", default=True, help="Send the resulting notifications.")
@_store_options
def run_command(
    start: str, end: str, names: tuple[str, ...], deliver: bool, store_url: str, artifacts_url: str
) -> None:
    """Evaluate every closed window in [--from, --to) (a backfill); prints breached windows."""
    from vigil.events.delivery import deliver_pending
    from vigil.events.settings import MonitorSettings
    from vigil.monitor.evaluate import backfill

    begin, finish = _time(start), _time(end)
    if finish <= begin:
        fail(f"--to ({end}) must be after --from ({start})")
    with _opened(store_url, artifacts_url) as store:
        results = backfill(store, begin, finish, monitors=names or None)
        stats = deliver_pending(store, MonitorSettings()) if deliver else None
    for r in results:
        if r.breached:
            click.echo(f"{r.window_start.isoformat()}\t{r.monitor}\tBREACHED\t{r.message}")
    breached = sum(r.breached for r in results)
    click.echo(f"{len(results)} windows evaluated, {breached} breached")
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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_store_options
@url_option
@token_option
def alerts_list(
    state: str | None,
    monitor: str | None,
    actor: str | None,
    fmt: str,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """List alerts, newest first."""
    from vigil.monitor.alerts import Alert, list_alerts

    if url:
        params = {k: v for k, v in (("state", state), ("monitor", monitor), ("actor", actor)) if v}
        with _server(url, token) as api:
            answer = api.alerts.all(params)
        items = [Alert.model_validate(a) for a in answer]
    else:
        with _opened(store_url, artifacts_url) as store, store.session() as session:
            items = list_alerts(
                session,
                state=state,  # type: ignore[arg-type]
                monitor=monitor,
                actor=actor,
            )
    if fmt == "json":
        click.echo(json.dumps([a.model_dump(mode="json") for a in items], indent=2))
        return
    for a in items:
        click.echo(
            f"{a.id}\t{a.state}\t{a.severity}\t{a.monitor}\t{a.target}\t"
            f"{a.last_window_start.isoformat()}\t{a.message}"
        )


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser()


@alerts_group.command("ack")
@click.argument("alert_id", type=int)
@click.option("--by", "actor", default=None, help="Who acknowledges (default: the OS user).")
@click.option("--note", default="")
@_store_options
@url_option
@token_option
def alerts_ack(
    alert_id: int,
    actor: str | None,
    note: str,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """Acknowledge an open alert."""
    from vigil.monitor.alerts import Alert, acknowledge

    if url:  # the server records the token's owner
        with _server(url, token) as api:
            alert = Alert.model_validate(api.alerts.act(alert_id, "ack", note))
    else:
        with _opened(store_url, artifacts_url) as store, store.session() as session:
            alert = acknowledge(session, alert_id, _actor(actor), note)
    click.echo(f"alert {alert.id} {alert.state}")


@alerts_group.command("resolve")
@click.argument("alert_id", type=int)
@click.option("--by", "actor", default=None, help="Who resolves (default: the OS user).")
@click.option("--note", default="")
@_store_options
@url_option
@token_option
def alerts_resolve(
    alert_id: int,
    actor: str | None,
    note: str,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """Resolve an alert by hand."""
    from vigil.monitor.alerts import Alert, resolve

    if url:  # the server records the token's owner
        with _server(url, token) as api:
            alert = Alert.model_validate(api.alerts.act(alert_id, "resolve", note))
    else:
        with _opened(store_url, artifacts_url) as store, store.session() as session:
            alert = resolve(session, alert_id, _actor(actor), note)
    click.echo(f"alert {alert.id} {alert.state}")
