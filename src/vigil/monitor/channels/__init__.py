"""The registry of alert channels. A new channel is one module and one registration line below
(plus its config model in `vigil.monitor.definitions`)."""

from __future__ import annotations

from vigil.errors import InvalidInputError
from vigil.monitor.channels.base import ChannelSender, DeliveryError
from vigil.monitor.channels.email import Email
from vigil.monitor.channels.pagerduty import PagerDuty
from vigil.monitor.channels.slack import Slack
from vigil.monitor.channels.webhook import Webhook

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

__all__ = ["CHANNELS", "ChannelSender", "DeliveryError", "get_sender", "register"]
