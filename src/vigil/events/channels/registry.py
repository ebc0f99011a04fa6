"""The one place channel kinds are registered: one line per kind (its module holds its
configuration model and its sender)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from vigil.errors import InvalidInputError
from vigil.events.channels import email, pagerduty, slack, webhook
from vigil.events.channels.base import ChannelSender

_ALL: tuple[ChannelSender, ...] = (
    webhook.Webhook(),
    slack.Slack(),
    email.Email(),
    pagerduty.PagerDuty(),
)

CHANNELS: Mapping[str, ChannelSender] = MappingProxyType({k.type: k for k in _ALL})
if len(CHANNELS) != len(_ALL):
    raise RuntimeError("two channel kinds share a type name")


def get_sender(type_: str) -> ChannelSender:
    """The kind registered as `type_`, else InvalidInputError naming the types."""
    try:
        return CHANNELS[type_]
    except KeyError:
        raise InvalidInputError(
            f"unknown channel type {type_!r}; the types are {sorted(CHANNELS)}",
            type=type_,
            allowed=sorted(CHANNELS),
        ) from None
