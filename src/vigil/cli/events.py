"""`vigil events`: the event outbox and webhook subscriptions to it.

    vigil events list [--after 120] [--type model.alias_moved] [--actor ana] [--follow]
    vigil events subscribe deployer https://ci.example.com/hooks/vigil --type model.alias_moved --secret-env HOOK_SECRET
    vigil events subscriptions
    vigil events unsubscribe deployer
    vigil events deliveries [--subscription deployer]
    vigil events deliver          # send the pending deliveries now (a server does it by itself)

The store comes from --store/--artifacts (or VIGIL_STORE_URL/VIGIL_ARTIFACTS_URL); with --url and
--token (or VIGIL_URL/VIGIL_TOKEN) the commands go to a Vigil server.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from vigil.cli.common import (
    Backend,
    FullHelpGroup,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
    store_options,
)

T = TypeVar("T")


@contextmanager
def _backend(backend: Backend) -> Iterator[Any]:
    """The server's API (a `VigilApi`) when --url is given, else the opened store."""
    if backend.remote:
        with backend.api(timeout=30.0) as api:
            yield api
    else:
        with backend.store() as store:
            yield store


def _in_session(store: Any, action: Callable[[Any], T]) -> T:
    with store.session() as session:
        try:
            return action(session)
        finally:
            session.rollback()


@click.group("events", cls=FullHelpGroup)
def events_group() -> None:
    """Registry and monitoring events for other systems, and webhooks subscribed to them."""


@events_group.command("list")
@click.option("--after", default=0, show_default=True, help="The cursor: the last event id seen.")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@click.option("--actor", default=None, help="Only what this person did.")
@click.option("--subject", default=None, help="Only events about this model or monitor.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--follow", is_flag=True, help="Keep polling for new events (Ctrl-C to stop).")
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between polls.",
)
@backend_options
@format_option()
def list_command(
    after: int,
    types: tuple[str, ...],
    actor: str | None,
    subject: str | None,
    limit: int,
    follow: bool,
    interval: float,
    backend: Backend,
    fmt: str,
) -> None:
    """Events after the cursor, oldest first (JSON: one event per line); the last line on stderr
    is the next cursor."""
    from vigil.events.outbox import EventsPage, list_events

    with _backend(backend) as source:

        def page(cursor: int) -> EventsPage:
            if backend.remote:
                params: dict[str, Any] = {"after": cursor, "limit": limit}
                params.update({"types": ",".join(types)} if types else {})
                params.update({k: v for k, v in (("actor", actor), ("subject", subject)) if v})
                return EventsPage.model_validate(source.events.page(params))
            return _in_session(
                source,
                lambda s: list_events(
                    s, after=cursor, types=list(types), subject=subject, actor=actor, limit=limit
                ),
            )

        cursor = after
        header = False
        try:
            while True:
                current = page(cursor)  # a VigilError is reported by _backend
                for event in current.events:
                    if fmt == "json":
                        click.echo(json.dumps(event.model_dump(mode="json")))
                        continue
                    if not header:  # the list streams: fixed widths, the header once
                        click.echo(
                            f"{'ID':>8}  {'AT':<25}  {'TYPE':<24}  {'SUBJECT':<16}  "
                            f"{'ACTOR':<12}  DATA"
                        )
                        header = True
                    click.echo(
                        f"{event.id:>8}  {event.at.isoformat():<25}  {event.type:<24}  "
                        f"{event.subject:<16}  {event.actor:<12}  "
                        f"{json.dumps(event.data, sort_keys=True)}"
                    )
                cursor = current.next_cursor
                if current.has_more:
                    continue
                if not follow:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        click.echo(f"next cursor: {cursor}", err=True)


@events_group.command("subscribe")
@click.argument("name")
@click.argument("target_url")
@click.option("--type", "types", multiple=True, help="Event types to send (all when none).")
@click.option(
    "--secret-env",
    default=None,
    help="The environment variable holding the HMAC secret (kept out of shell history).",
)
@click.option("--inactive", is_flag=True, help="Create it paused.")
@backend_options
def subscribe_command(
    name: str,
    target_url: str,
    types: tuple[str, ...],
    secret_env: str | None,
    inactive: bool,
    backend: Backend,
) -> None:
    """Send events to TARGET_URL, signed with HMAC-SHA256 when a secret is given."""
    from pydantic import ValidationError

    from vigil.actors import current_user
    from vigil.events.settings import MonitorSettings
    from vigil.events.subscriptions import Subscription, SubscriptionIn, create_subscription

    secret = ""
    if secret_env is not None:
        if secret_env not in os.environ:
            fail(f"the environment variable {secret_env} is not set")
        secret = os.environ[secret_env]
    try:
        spec = SubscriptionIn(
            name=name, url=target_url, secret=secret, types=list(types), active=not inactive
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    with _backend(backend) as source:
        if backend.remote:
            created = Subscription.model_validate(source.events.subscribe(spec.model_dump()))
        else:
            policy = MonitorSettings().outbound_policy()  # VIGIL_OUTBOUND_ALLOW
            with source.session() as session:
                created = create_subscription(session, spec, actor=current_user(), policy=policy)
    kinds = ", ".join(created.types) or "all events"
    click.echo(f"subscribed {created.name}: {kinds} -> {created.url}")


@events_group.command("subscriptions")
@backend_options
@format_option()
def subscriptions_command(backend: Backend, fmt: str) -> None:
    """The webhook subscriptions (secrets are never shown; URLs with their path masked; JSON:
    one subscription per line)."""
    from vigil.events.subscriptions import Subscription, list_subscriptions

    with _backend(backend) as source:
        if backend.remote:
            items = [Subscription.model_validate(s) for s in source.events.subscriptions()]
        else:
            items = _in_session(source, list_subscriptions)
    if fmt == "json":
        for s in items:
            click.echo(json.dumps(s.model_dump(mode="json")))
        return
    print_table(
        ["name", "state", "types", "url", "created by"],
        [
            [
                s.name,
                "active" if s.active else "paused",
                ",".join(s.types) or "*",
                s.url,
                s.created_by,
            ]
            for s in items
        ],
        empty="no subscriptions",
    )


@events_group.command("unsubscribe")
@click.argument("name")
@backend_options
def unsubscribe_command(name: str, backend: Backend) -> None:
    """Delete a subscription and its queued deliveries."""
    from vigil.events.subscriptions import delete_subscription

    with _backend(backend) as source:
        if backend.remote:
            source.events.unsubscribe(name)
        else:
            with source.session() as session:
                delete_subscription(session, name)
    click.echo(f"unsubscribed {name}")


@events_group.command("deliveries")
@click.option("--subscription", default=None, help="Only this subscription's deliveries.")
@backend_options
@format_option()
def deliveries_command(subscription: str | None, backend: Backend, fmt: str) -> None:
    """The latest webhook deliveries, newest first, with their state and last error."""
    from vigil.events.subscriptions import EventDelivery, list_deliveries

    with _backend(backend) as source:
        if backend.remote:
            params = {"subscription": subscription} if subscription else {}
            answer = source.events.deliveries(params)
            items = [EventDelivery.model_validate(d) for d in answer]
        else:
            items = _in_session(source, lambda s: list_deliveries(s, subscription=subscription))
    if fmt == "json":
        print_json([d.model_dump(mode="json") for d in items])
        return
    print_table(
        ["id", "event", "subscription", "state", "attempts", "last error"],
        [[d.id, d.event_id, d.subscription, d.state, d.attempts, d.last_error] for d in items],
        empty="no deliveries",
    )


@events_group.command("deliver")
@store_options
def deliver_command(backend: Backend) -> None:
    """Send the pending deliveries that are due now (VIGIL_OUTBOUND_ALLOW applies; a server
    sends them by itself, so this works on the store only)."""
    from vigil.events.dispatch import deliver_events
    from vigil.events.settings import MonitorSettings

    with backend.store() as store:
        stats = deliver_events(store, MonitorSettings())
    click.echo(f"sent {stats.sent}, retrying {stats.retrying}, failed {stats.failed}")
