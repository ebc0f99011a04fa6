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
    FullHelpGroup,
    artifacts_option,
    fail,
    store_option,
    token_option,
    url_option,
)
from vigil.errors import VigilError

T = TypeVar("T")


@contextmanager
def _backend(
    store_url: str, artifacts_url: str, url: str | None, token: str | None
) -> Iterator[Any]:
    """The server's API (a `VigilApi`) when --url is given, else an opened store."""
    from vigil.api.client import VigilApi
    from vigil.store.core import Store

    try:
        if url is not None:
            with VigilApi(url, token) as api:
                yield api
            return
        store = Store.open(store_url, artifacts_url)
        try:
            yield store
        finally:
            store.close()
    except VigilError as exc:
        fail(exc)


def _in_session(store: Any, action: Callable[[Any], T]) -> T:
    with store.session() as session:
        try:
            return action(session)
        finally:
            session.rollback()


def _options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in (token_option, url_option, artifacts_option, store_option):
        command = option(command)
    return command


@click.group("events", cls=FullHelpGroup)
def events_group() -> None:
    """Registry and monitoring events for other systems, and webhooks subscribed to them."""


@events_group.command("list")
@click.option("--after", default=0, show_default=True, help="The cursor: the last event id seen.")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@click.option("--actor", default=None, help="Only what this person did.")
@click.option("--subject", default=None, help="Only events about this model or monitor.")
@click.option("--limit", default=100, show_default=True)
@click.option("--follow", is_flag=True, help="Keep polling for new events (Ctrl-C to stop).")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event and line.")
@_options
def list_command(
    after: int,
    types: tuple[str, ...],
    actor: str | None,
    subject: str | None,
    limit: int,
    follow: bool,
    interval: float,
    as_json: bool,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """Events after the cursor, oldest first; the last line on stderr is the next cursor."""
    from vigil.events.outbox import EventsPage, list_events

    with _backend(store_url, artifacts_url, url, token) as backend:

        def page(cursor: int) -> EventsPage:
            if url is not None:
                params: dict[str, Any] = {"after": cursor, "limit": limit}
                params.update({"types": ",".join(types)} if types else {})
                params.update({k: v for k, v in (("actor", actor), ("subject", subject)) if v})
                return EventsPage.model_validate(backend.events.page(params))
            return _in_session(
                backend,
                lambda s: list_events(
                    s, after=cursor, types=list(types), subject=subject, actor=actor, limit=limit
                ),
            )

        cursor = after
        try:
            while True:
                current = page(cursor)  # a VigilError is reported by _backend
                for event in current.events:
                    if as_json:
                        click.echo(json.dumps(event.model_dump(mode="json")))
                    else:
                        click.echo(
                            f"{event.id}\t{event.at.isoformat()}\t{event.type}\t{event.subject}"
                            f"\t{event.actor}\t{json.dumps(event.data, sort_keys=True)}"
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
@_options
def subscribe_command(
    name: str,
    target_url: str,
    types: tuple[str, ...],
    secret_env: str | None,
    inactive: bool,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
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
    with _backend(store_url, artifacts_url, url, token) as backend:
        if url is not None:
            created = Subscription.model_validate(backend.events.subscribe(spec.model_dump()))
        else:
            policy = MonitorSettings().outbound_policy()  # VIGIL_OUTBOUND_ALLOW
            with backend.session() as session:
                created = create_subscription(session, spec, actor=current_user(), policy=policy)
    kinds = ", ".join(created.types) or "all events"
    click.echo(f"subscribed {created.name}: {kinds} -> {created.url}")


@events_group.command("subscriptions")
@click.option("--json", "as_json", is_flag=True)
@_options
def subscriptions_command(
    as_json: bool, store_url: str, artifacts_url: str, url: str | None, token: str | None
) -> None:
    """The webhook subscriptions (secrets are never shown; URLs with their path masked)."""
    from vigil.events.subscriptions import Subscription, list_subscriptions

    with _backend(store_url, artifacts_url, url, token) as backend:
        if url is not None:
            items = [Subscription.model_validate(s) for s in backend.events.subscriptions()]
        else:
            items = _in_session(backend, list_subscriptions)
    for s in items:
        if as_json:
            click.echo(json.dumps(s.model_dump(mode="json")))
        else:
            state = "active" if s.active else "paused"
            click.echo(f"{s.name}\t{state}\t{','.join(s.types) or '*'}\t{s.url}\t{s.created_by}")


@events_group.command("unsubscribe")
@click.argument("name")
@_options
def unsubscribe_command(
    name: str, store_url: str, artifacts_url: str, url: str | None, token: str | None
) -> None:
    """Delete a subscription and its queued deliveries."""
    from vigil.events.subscriptions import delete_subscription

    with _backend(store_url, artifacts_url, url, token) as backend:
        if url is not None:
            backend.events.unsubscribe(name)
        else:
            with backend.session() as session:
                delete_subscription(session, name)
    click.echo(f"unsubscribed {name}")


@events_group.command("deliveries")
@click.option("--subscription", default=None, help="Only this subscription's deliveries.")
@_options
def deliveries_command(
    subscription: str | None,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """The latest webhook deliveries, newest first, with their state and last error."""
    from vigil.events.subscriptions import EventDelivery, list_deliveries

    with _backend(store_url, artifacts_url, url, token) as backend:
        if url is not None:
            params = {"subscription": subscription} if subscription else {}
            answer = backend.events.deliveries(params)
            items = [EventDelivery.model_validate(d) for d in answer]
        else:
            items = _in_session(backend, lambda s: list_deliveries(s, subscription=subscription))
    for d in items:
        click.echo(
            f"{d.id}\tevent {d.event_id}\t{d.subscription}\t{d.state}\t{d.attempts} attempt(s)"
            f"\t{d.last_error}".rstrip()
        )


@events_group.command("deliver")
@store_option
@artifacts_option
def deliver_command(store_url: str, artifacts_url: str) -> None:
    """Send the pending deliveries that are due now (VIGIL_OUTBOUND_ALLOW applies)."""
    from vigil.events.dispatch import deliver_events
    from vigil.events.settings import MonitorSettings

    with _backend(store_url, artifacts_url, None, None) as store:
        stats = deliver_events(store, MonitorSettings())
    click.echo(f"sent {stats.sent}, retrying {stats.retrying}, failed {stats.failed}")
