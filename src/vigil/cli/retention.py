"""`vigil models retention NAME [--rows-days N ...]`: read or change a monitored model's retention
policy (`vigil db compact`, in `vigil.cli.db`, applies the policies). Registered in
`vigil.cli.models`' group."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vigil.api.retention import MAX_RETENTION_DAYS, RETENTION_FIELDS, RetentionOut
from vigil.cli.common import (
    Backend,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
)
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.client.areas.retention import RetentionArea

FOREVER = "forever"
F = TypeVar("F", bound=Callable[..., Any])


class Days(click.ParamType[int | str]):
    """A number of days (1 to 36525), or `forever` to keep that data for ever."""

    name = "DAYS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value == FOREVER:
            return value
        text = str(value).strip()
        if text.lower() == FOREVER:
            return FOREVER
        if not text.isdigit() or not 1 <= int(text) <= MAX_RETENTION_DAYS:
            self.fail(
                f"{value!r} is not a number of days from 1 to {MAX_RETENTION_DAYS}, "
                f"nor '{FOREVER}'",
                param,
                ctx,
            )
        return int(text)


def _option(field: str, what: str) -> Callable[[F], F]:
    flag = "--" + field.replace("_", "-")
    return click.option(
        flag, field, type=Days(), default=None, help=f"{what} ('{FOREVER}': never)."
    )


def _update(area: RetentionArea, name: str, changes: dict[str, Any]) -> RetentionOut:
    """The model's policy after setting `changes` (the other settings kept)."""
    try:
        policy = area.get(name)
        if changes:
            policy = area.set(name, **{**policy.policy().model_dump(), **changes})
    except VigilError as exc:
        fail(exc)
    return policy


def _show(policy: RetentionOut, fmt: str) -> None:
    if fmt == "json":
        print_json(policy.model_dump(mode="json"))
        return
    rows = [[name, getattr(policy, name) or FOREVER] for name in RETENTION_FIELDS]
    print_table(["setting", "days"], rows)
    if policy.updated_at is not None:
        click.echo(f"set {policy.updated_at.isoformat()} by {policy.updated_by or 'unknown'}")


@click.command("retention")
@click.argument("name")
@_option("rows_days", "Delete raw prediction and label rows after this many days")
@_option("daily_after_days", "Roll windows shorter than a day up into days after this many days")
@_option("monthly_after_days", "Roll days up into calendar months after this many days")
@_option("alerts_days", "Delete resolved alerts this many days after they resolved")
@_option("events_days", "Delete the model's events after this many days")
@backend_options
@format_option()
def retention_command(name: str, backend: Backend, fmt: str, **given: int | str | None) -> None:
    """Show a monitored model's retention policy, or change the settings given (the others
    stay). `vigil db compact` and the server's retention worker apply it."""
    from vigil.client.areas.retention import LocalRetention, RemoteRetention

    changes = {k: (None if v == FOREVER else v) for k, v in given.items() if v is not None}
    if backend.remote:
        with backend.api() as api:
            policy = _update(RemoteRetention(api), name, changes)
    else:
        with backend.store() as store:
            policy = _update(LocalRetention(store), name, changes)
    _show(policy, fmt)
