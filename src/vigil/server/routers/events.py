"""/api/v1/events: the event outbox with a cursor, webhook subscriptions to it and their
deliveries. The delivery worker (`vigil.events.dispatch.Dispatcher`) is started and stopped by
the app's lifespan (`vigil.server.app`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from vigil.events import subscriptions
from vigil.events.outbox import EventsPage, list_events
from vigil.events.subscriptions import EventDelivery, Subscription, SubscriptionIn
from vigil.ingestion import service
from vigil.ranges import INT64_MAX
from vigil.server.deps import AdminAccess, ReadAccess, SessionDep
from vigil.server.outbound import OutboundPolicyDep

router = APIRouter(tags=["events"])
Name = Annotated[str, Path(max_length=200)]


@router.get("/api/v1/events")
def get_events(
    _: ReadAccess,
    session: SessionDep,
    after: Annotated[
        int, Query(ge=0, le=INT64_MAX, description="The cursor: the last event id seen.")
    ] = 0,
    types: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated event types.")
    ] = None,
    subject: Annotated[str | None, Query(max_length=500)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventsPage:
    """Events after the cursor, oldest first; page on with `after=next_cursor`."""
    wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
    return service.read_only(
        session,
        lambda s: list_events(
            s, after=after, types=wanted, subject=subject, actor=actor, limit=limit
        ),
    )


@router.get("/api/v1/events/subscriptions")
def list_subscriptions(_: ReadAccess, session: SessionDep) -> list[Subscription]:
    return service.read_only(session, subscriptions.list_subscriptions)


@router.post("/api/v1/events/subscriptions", status_code=status.HTTP_201_CREATED)
def create_subscription(
    principal: AdminAccess, session: SessionDep, body: SubscriptionIn, policy: OutboundPolicyDep
) -> Subscription:
    """Subscribe a webhook (it sends requests out of the server: admin only). Its address must
    pass the outbound policy (422 naming the rule); the secret is never shown back."""
    return subscriptions.create_subscription(session, body, actor=principal.actor, policy=policy)


@router.get("/api/v1/events/subscriptions/{name}")
def get_subscription(_: ReadAccess, session: SessionDep, name: Name) -> Subscription:
    return service.read_only(session, lambda s: subscriptions.get_subscription(s, name))


@router.put("/api/v1/events/subscriptions/{name}")
def update_subscription(
    _: AdminAccess, session: SessionDep, name: Name, body: SubscriptionIn, policy: OutboundPolicyDep
) -> Subscription:
    """Replace a subscription; a secret left out and the URL sent back masked are kept."""
    return subscriptions.update_subscription(session, name, body, policy=policy)


@router.delete("/api/v1/events/subscriptions/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(_: AdminAccess, session: SessionDep, name: Name) -> None:
    subscriptions.delete_subscription(session, name)


@router.get("/api/v1/events/deliveries")
def list_deliveries(
    _: ReadAccess,
    session: SessionDep,
    subscription: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventDelivery]:
    """The latest webhook deliveries of events, newest first, with their state and errors."""
    return service.read_only(
        session, lambda s: subscriptions.list_deliveries(s, subscription=subscription, limit=limit)
    )
