"""Alert channels: subscribers of the outbox that receive the alert notifications of the monitors
naming them. A new kind is one module (its configuration model and its sender) and one line in
`registry.py`; the contract test in `tests/events/test_channel_contract.py` runs over every kind.

Each kind says where it connects (`endpoint`) and which of its fields are secret (`secrets`); the
functions below apply that to a whole channel: what may be shown of it, which stored secrets an
update keeps, which values must never appear in an error or a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.events.channels.base import SET, ChannelSender, DeliveryError
from vigil.events.channels.definitions import Channel
from vigil.events.channels.registry import CHANNELS, get_sender
from vigil.outbound import OutboundPolicy


def redact_channel(channel: Channel) -> Channel:
    """The channel as the API, the dashboard and the CLI show it: secrets replaced."""
    return channel.model_copy(
        update={"config": get_sender(channel.config.type).redact(channel.config)}
    )


def check_channel(channel: Channel, policy: OutboundPolicy) -> None:
    """The configuration-time outbound check of a channel (OutboundAddressError, 422)."""
    get_sender(channel.config.type).check(channel.config, policy)


def secret_values(config: Any) -> list[str]:
    """The secret strings of a channel's configuration (to scrub them from errors and logs)."""
    return get_sender(config.type).secret_values(config)


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
    kind = get_sender(old.type)
    shown_config = kind.redact(old)
    sent = new.model_fields_set
    update: dict[str, Any] = {}
    for field in kind.secrets:
        value, shown, given = getattr(old, field), getattr(shown_config, field), getattr(new, field)
        if value == shown:
            continue  # nothing secret is stored in it (None, "", no headers)
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
    "secret_values",
]
