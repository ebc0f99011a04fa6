"""The two kinds of subscriber of the outbox, and how one delivery is sent to each.

- A webhook subscription receives the event itself (as `GET /api/v1/events` lists it), POSTed as
  JSON with `X-Vigil-Event: <type>`, `X-Vigil-Delivery: <delivery id>` and, when it has a secret,
  `X-Vigil-Signature: sha256=<HMAC-SHA256 of the body>`.
- An alert channel receives the notification of an `alert.opened` or `alert.resolved` event
  (`vigil.events.findings.notification`), sent by its kind's sender (`vigil.events.channels`).

Both connect through the outbound address policy in force at delivery, and both name the secrets
that must be scrubbed from an error before it is stored or logged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from vigil.events.channels import get_sender, secret_values
from vigil.events.channels.base import DeliveryError, post
from vigil.events.channels.definitions import Channel
from vigil.events.channels.webhook import SIGNATURE_HEADER, sign
from vigil.events.findings import notification
from vigil.events.outbox import event_out
from vigil.events.settings import MonitorSettings
from vigil.store.collab_tables import EventDeliveryRow, EventRow, EventSubscriptionRow

TIMEOUT_SECONDS = 10.0
"""How long a webhook subscription's receiver has to answer."""
EVENT_HEADER = "X-Vigil-Event"
DELIVERY_HEADER = "X-Vigil-Delivery"


class Subscriber(Protocol):
    """Where one delivery goes: `label` names it in logs, `secrets` are scrubbed from errors."""

    @property
    def label(self) -> str: ...

    @property
    def secrets(self) -> list[str]: ...

    def send(self, settings: MonitorSettings) -> None:
        """Send the delivery once; a VigilError (or any exception) is a failed attempt."""


def body_of(event: EventRow) -> bytes:
    """The JSON body a webhook subscription receives: the event as `GET /api/v1/events` lists
    it."""
    return json.dumps(event_out(event).model_dump(mode="json"), sort_keys=True).encode()


@dataclass(frozen=True)
class WebhookSubscriber:
    """A webhook subscription, with the event it is to receive."""

    delivery_id: int
    name: str
    url: str
    secret: str
    event_type: str
    body: bytes

    @property
    def label(self) -> str:
        return f"subscription {self.name}"

    @property
    def secrets(self) -> list[str]:
        return [self.url, self.secret]

    def send(self, settings: MonitorSettings) -> None:
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: self.event_type,
            DELIVERY_HEADER: str(self.delivery_id),
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, self.body)
        post(self.url, self.body, headers, settings.outbound_policy(), timeout=TIMEOUT_SECONDS)


@dataclass(frozen=True)
class ChannelSubscriber:
    """An alert channel (its stored definition, None when no channel has that name), with the
    event whose notification it is to receive (or the body a notification was queued with before
    it went through the outbox)."""

    name: str
    definition: Mapping[str, Any] | None
    event_type: str
    at: dt.datetime
    data: Mapping[str, Any]
    queued: Mapping[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"channel {self.name}"

    @property
    def secrets(self) -> list[str]:
        channel = self._channel()
        return secret_values(channel.config) if channel is not None else []

    def _channel(self) -> Channel | None:
        if self.definition is None:
            return None
        try:
            return Channel.model_validate(self.definition)
        except ValueError:
            return None

    def send(self, settings: MonitorSettings) -> None:
        if self.definition is None:
            raise DeliveryError(f"no channel named {self.name!r} is defined")
        channel = self._channel()
        if channel is None:
            raise DeliveryError(
                f"channel {self.name!r} has a definition this version cannot read; apply it again"
            )
        payload = self.queued or notification(self.event_type, self.at, self.data)
        get_sender(channel.config.type).send(channel.config, payload, settings)


def subscriber(
    delivery: EventDeliveryRow,
    event: EventRow,
    subscription: EventSubscriptionRow | None,
    channels: Mapping[str, Mapping[str, Any]],
) -> Subscriber:
    """The subscriber a delivery row goes to (`channels`: the stored channel definitions), built
    from plain values, so that it is sent after the session that read it has ended."""
    if subscription is not None:
        return WebhookSubscriber(
            delivery.id,
            subscription.name,
            subscription.url,
            subscription.secret,
            event.type,
            body_of(event),
        )
    name = delivery.channel or ""
    queued = dict(delivery.payload) if delivery.payload is not None else None
    return ChannelSubscriber(
        name, channels.get(name), event.type, event.at, dict(event.data), queued
    )
