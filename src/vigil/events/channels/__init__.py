"""The registry of alert channels. A new channel is one module and one registration line below
(plus its config model in `vigil.monitor.definitions`).

Each kind says where it connects (`endpoint`) and what of its configuration is secret (`redact`);
the functions below apply that to a whole channel: what may be shown of it, which stored secrets
an update keeps, which values must never appear in an error or a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.errors import InvalidInputError
from vigil.events.channels.base import SET, ChannelSender, DeliveryError
from vigil.events.channels.definitions import Channel
from vigil.events.channels.email import Email
from vigil.events.channels.pagerduty import PagerDuty
from vigil.events.channels.slack import Slack
from vigil.events.channels.webhook import Webhook
from vigil.outbound import OutboundPolicy

CHANNELS: dict[str, ChannelSender] = {}


def register(sender: ChannelSender) -> ChannelSender:
    if sender.type in CHANNELS:
        raise ValueError(f"a channel type {sender.type!r} is already registered")
    CHANNELS[sender.type] = sender
    return sender


def get_sender(type_: str) -> ChannelSender:
    try:
        return CHANNELS[type_]
    except KeyError:
        raise InvalidInputError(
            f"unknown channel type {type_!r}; the types are {sorted(CHANNELS)}"
        ) from None


register(Webhook())
register(Slack())
register(Email())
register(PagerDuty())


def redact_channel(channel: Channel) -> Channel:
    """The channel as the API, the dashboard and the CLI show it: secrets replaced."""
    return channel.model_copy(
        update={"config": get_sender(channel.config.type).redact(channel.config)}
    )


def check_channel(channel: Channel, policy: OutboundPolicy) -> None:
    """The configuration-time outbound check of a channel (OutboundAddressError, 422)."""
    get_sender(channel.config.type).check(channel.config, policy)


def _secret_fields(config: Any) -> dict[str, tuple[Any, Any]]:
    """{field: (value, shown value)} of the fields `redact` hides."""
    plain = config.model_dump(mode="json")
    shown = get_sender(config.type).redact(config).model_dump(mode="json")
    return {k: (v, shown[k]) for k, v in plain.items() if v != shown[k]}


def secret_values(config: Any) -> list[str]:
    """The secret strings of a channel's configuration (to scrub them from errors and logs)."""
    values: list[str] = []
    for value, _ in _secret_fields(config).values():
        values += [str(v) for v in value.values()] if isinstance(value, Mapping) else [str(value)]
    return values


def keep_secrets(channel: Channel, stored: Mapping[str, Any] | None) -> Channel:
    """A channel sent to replace `stored` (its stored definition) with the stored secrets kept
    where the update leaves them out or sends them back as shown (`***set***`, a masked URL,
    a header's `***set***`): reading a channel and writing it back changes no secret. A secret
    sent explicitly (even null) replaces the stored one."""
    if not stored:
        return channel
    try:
        old = Channel.model_validate(stored).config
    except ValueError:
        return channel
    new = channel.config
    if old.type != new.type:
        return channel
    sent = new.model_fields_set
    update: dict[str, Any] = {}
    for field, (value, shown) in _secret_fields(old).items():
        given = getattr(new, field)
        if isinstance(value, Mapping):
            if field not in sent:
                update[field] = dict(value)
            else:
                update[field] = {
                    k: value[k] if v == SET and k in value else v for k, v in given.items()
                }
        elif field not in sent or given == shown:
            update[field] = value
    if not update:
        return channel
    config = type(new).model_validate({**new.model_dump(mode="json"), **update})
    return channel.model_copy(update={"config": config})


__all__ = [
    "CHANNELS",
    "SET",
    "ChannelSender",
    "DeliveryError",
    "check_channel",
    "get_sender",
    "keep_secrets",
    "redact_channel",
    "register",
    "secret_values",
]
