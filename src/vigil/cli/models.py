"""`vigil models`: the model registry from the command line.

    vigil models list
    vigil models versions churn
    vigil models register churn model.skops --run-id 3f2a... --tag team=growth --metric auc=0.91
    vigil models alias set churn production 3 [--gate-metric auc --gate-margin 0.01 --gate-suite checks.yaml]
    vigil models alias delete churn production
    vigil models history churn [--alias production] [--at 2026-11-20T12:00:00Z] [--actor ana]
    vigil models versions churn [--state active|retired] [--actor ana]
    vigil models retire churn 2 [--note "leaks the label"]
    vigil models restore churn 2
    vigil models retraining churn [--window day] [--persistence 2]

The store comes from --store/--artifacts, else VIGIL_STORE_URL/VIGIL_ARTIFACTS_URL, else the
default SQLite file and folder under ./.vigil; changes are recorded as the OS user. With --url
(or VIGIL_URL) and --token (or VIGIL_TOKEN) the commands go to a Vigil server instead, and changes
are recorded as the token's owner.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

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
from vigil.cli.retention import retention_command
from vigil.errors import VigilError

_actor = click.option(
    "--actor", default=None, help="Only what this person did (a token's owner or an OS user)."
)


@contextmanager
def _registry(backend: Backend) -> Iterator[Any]:
    """The server's registry (`RemoteRegistry`) with --url, else the store's (`Registry`)."""
    from vigil.client.registry.remote import RemoteRegistry
    from vigil.registry import Registry

    if backend.url is not None:
        remote = RemoteRegistry(backend.url, backend.token)
        try:
            yield remote
        except VigilError as exc:
            fail(exc)
        finally:
            remote.close()
        return
    with backend.store() as store:
        yield Registry(store)


def _pairs(items: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        out[key] = value
    return out


@click.group("models", cls=FullHelpGroup)
def models_group() -> None:
    """The model registry: registered models, versions, aliases and their history."""


@models_group.command("list")
@backend_options
@format_option()
def list_command(backend: Backend, fmt: str) -> None:
    """Registered models, their latest version and aliases."""
    with _registry(backend) as registry:
        models = registry.list_models()
    if fmt == "json":
        print_json([m.to_dict() for m in models])
        return
    print_table(
        ["model", "latest", "aliases"],
        [
            [m.name, m.latest_version, " ".join(f"@{a}={v}" for a, v in m.aliases.items())]
            for m in models
        ],
        empty="no registered models",
    )


@models_group.command("versions")
@click.argument("name")
@click.option(
    "--state",
    type=click.Choice(["active", "retired"]),
    default=None,
    help="Only versions in this lifecycle state.",
)
@_actor
@backend_options
@format_option()
def versions_command(
    name: str,
    state: Literal["active", "retired"] | None,
    actor: str | None,
    backend: Backend,
    fmt: str,
) -> None:
    """A model's versions, oldest first, with their lifecycle state and who created them."""
    with _registry(backend) as registry:
        versions = registry.list_versions(name, state=state, actor=actor)
    if fmt == "json":
        print_json([v.to_dict() for v in versions])
        return
    print_table(
        ["version", "state", "created", "by", "format", "run", "metrics", "aliases"],
        [
            [
                v.version,
                v.lifecycle,
                v.created_at,
                v.created_by,
                v.source_format,
                v.run_id,
                " ".join(f"{k}={x:g}" for k, x in v.metrics.items()),
                " ".join(f"@{a}" for a in v.aliases),
            ]
            for v in versions
        ],
        empty=f"no versions of {name}",
    )


@models_group.command("retire")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--note", default="", help="Why (kept in the model's history).")
@backend_options
def retire_command(
    name: str,
    version: int,
    note: str,
    backend: Backend,
) -> None:
    """Retire (archive) VERSION of NAME: kept with its history, but no alias may point at it."""
    with _registry(backend) as registry:
        info = registry.retire_version(name, version, note=note)
    click.echo(f"{name} version {info.version} is {info.lifecycle} (by {info.retired_by})")


@models_group.command("restore")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--note", default="", help="Why (kept in the model's history).")
@backend_options
def restore_command(
    name: str,
    version: int,
    note: str,
    backend: Backend,
) -> None:
    """Un-retire VERSION of NAME: it may be given aliases again."""
    with _registry(backend) as registry:
        info = registry.restore_version(name, version, note=note)
    click.echo(f"{name} version {info.version} is {info.lifecycle}")


@models_group.command("register")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True))
@click.option("--run-id", default=None, help="The tracking run that produced the model.")
@click.option("--description", default="", help="What this version is.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE, repeatable.")
@click.option("--metric", "metrics", multiple=True, help="NAME=NUMBER, repeatable (for gates).")
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(exists=True),
    default=None,
    help="The training data (or a .vgp profile of it): its columns become the schema.",
)
@backend_options
def register_command(
    name: str,
    path: str,
    run_id: str | None,
    description: str,
    tags: tuple[str, ...],
    metrics: tuple[str, ...],
    profile_path: str | None,
    backend: Backend,
) -> None:
    """Register the file or folder PATH as the next version of NAME."""
    numbers: dict[str, float] = {}
    for key, value in _pairs(metrics, "--metric").items():
        try:
            numbers[key] = float(value)
        except ValueError:
            raise click.BadParameter(
                f"{key}={value!r}: the value is not a number", param_hint="--metric"
            ) from None
    profile = None
    if profile_path is not None:
        from vigil.cli.profile import load_profile

        try:
            profile = load_profile(profile_path)
        except VigilError as exc:
            fail(exc)
    with _registry(backend) as registry:
        info = registry.register(
            name,
            path,
            run_id=run_id,
            description=description,
            tags=_pairs(tags, "--tag"),
            metrics=numbers,
            profile=profile,
        )
    click.echo(f"registered {info.name} version {info.version} ({info.uri})")


@models_group.group("alias", cls=FullHelpGroup)
def alias_group() -> None:
    """Point an alias at a version, or remove it."""


@alias_group.command("set")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int)
@click.option(
    "--gate-suite",
    type=click.Path(exists=True),
    default=None,
    help="A validation suite (YAML) the version's training profile must pass.",
)
@click.option(
    "--gate-metric",
    default=None,
    help="A metric the version must not be worse in than the current holder.",
)
@click.option(
    "--gate-margin",
    type=float,
    default=0.0,
    show_default=True,
    help="How much worse the metric may be.",
)
@click.option(
    "--gate-mode",
    type=click.Choice(["max", "min"]),
    default="max",
    show_default=True,
    help="max: higher is better; min: lower is better.",
)
@backend_options
def alias_set_command(
    name: str,
    alias: str,
    version: int,
    gate_suite: str | None,
    gate_metric: str | None,
    gate_margin: float,
    gate_mode: Literal["max", "min"],
    backend: Backend,
) -> None:
    """Point ALIAS of NAME at VERSION (after the gates, if any)."""
    from vigil.registry import Gates

    gates = None
    if gate_suite is not None or gate_metric is not None:
        try:
            gates = Gates(suite=gate_suite, metric=gate_metric, margin=gate_margin, mode=gate_mode)
        except VigilError as exc:
            fail(exc)
    with _registry(backend) as registry:
        event = registry.set_alias(name, alias, version, gates=gates)
    before = f"from version {event.from_version} " if event.from_version is not None else ""
    click.echo(f"@{alias} of {name} moved {before}to version {version}")


@alias_group.command("delete")
@click.argument("name")
@click.argument("alias")
@backend_options
def alias_delete_command(name: str, alias: str, backend: Backend) -> None:
    """Remove ALIAS of NAME."""
    with _registry(backend) as registry:
        event = registry.delete_alias(name, alias)
    click.echo(f"@{alias} of {name} deleted (it pointed at version {event.from_version})")


@models_group.command("history")
@click.argument("name")
@click.option("--alias", default=None, help="Only this alias's events.")
@click.option(
    "--at",
    "at",
    default=None,
    help="With --alias: print the version that held it at this time (UTC if no zone).",
)
@_actor
@backend_options
@format_option()
def history_command(
    name: str,
    alias: str | None,
    at: str | None,
    actor: str | None,
    backend: Backend,
    fmt: str,
) -> None:
    """NAME's event log (who changed what, when), or which version held --alias --at a time."""
    if at is not None:
        if alias is None:
            raise click.BadParameter("--at needs --alias", param_hint="--at")
        when = parse_time(at, "UTC", "--at")
        with _registry(backend) as registry:
            held = registry.alias_at(name, alias, when)
        if fmt == "json":
            print_json({"model": name, "alias": alias, "at": when.isoformat(), "version": held})
        else:
            click.echo(f"@{alias} did not exist then" if held is None else str(held))
        return
    with _registry(backend) as registry:
        events = registry.events(name, alias=alias, actor=actor)
    if fmt == "json":
        print_json([e.to_dict() for e in events])
        return
    rows = []
    for e in events:
        change = ""
        if e.from_version is not None or e.to_version is not None:
            change = f"{e.from_version if e.from_version is not None else '-'} -> "
            change += f"{e.to_version if e.to_version is not None else '-'}"
        rows.append([e.at, e.actor, e.kind, f"@{e.alias}" if e.alias else "", change])
    print_table(["at", "actor", "event", "alias", "change"], rows, empty=f"no events of {name}")


@models_group.command("retraining")
@click.argument("name")
@click.option(
    "--window",
    default="day",
    show_default=True,
    help="The windows' grid: hour, day, week, month, quarter, year, a length (6h) or day@Europe/Oslo.",
)
@click.option(
    "--persistence", default=2, show_default=True, help="Drifted windows in a row for an onset."
)
@backend_options
@format_option()
def retraining_command(
    name: str,
    window: str,
    persistence: int,
    backend: Backend,
    fmt: str,
) -> None:
    """The retraining cadence of monitored model NAME: how often its production windows drifted
    from the training reference, how long after training, and the advice."""
    from vigil.lifecycle.cadence import retraining_cadence

    if backend.remote:
        with backend.api() as api:
            body = api.models.retraining(name, {"window": window, "persistence": persistence})
    else:
        with backend.store() as store:
            body = retraining_cadence(store, name, window=window, persistence=persistence).to_dict()
    if fmt == "json":
        print_json(body)
        return
    share = body["drift_share"]
    click.echo(
        f"{name}: {body['drifted_windows']} of {body['windows']} windows drifted"
        + (f" ({share:.0%})" if share is not None else "")
    )
    if body["versions"]:
        print_table(
            ["version", "windows", "drifted", "days to drift", "days watched"],
            [
                [
                    v["version"],
                    v["windows"],
                    v["drifted_windows"],
                    None if v["days_to_drift"] is None else round(v["days_to_drift"], 1),
                    round(v["days_watched"], 1),
                ]
                for v in body["versions"]
            ],
        )
    for note in body["skipped"]:
        click.echo(f"  ({note})")
    click.echo(body["advice"])


models_group.add_command(retention_command)
