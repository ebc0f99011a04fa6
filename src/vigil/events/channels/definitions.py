"""Channel definitions: where an alert notification is sent, validated at construction.

Each kind's configuration model lives in the kind's module; `ChannelConfig` is the union of the
registered kinds (`vigil.events.channels.registry`), told apart by `type`. Secrets in them (URLs
with keys, passwords, routing keys, headers) are write-only: the API and the dashboard show them
redacted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import BaseModel, ConfigDict, Field

from vigil.events.channels.base import ChannelConfigBase
from vigil.events.channels.email import EmailChannel
from vigil.events.channels.pagerduty import PagerDutyChannel
from vigil.events.channels.registry import CHANNELS
from vigil.events.channels.slack import SlackChannel
from vigil.events.channels.webhook import WebhookChannel

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$"

if TYPE_CHECKING:
    ChannelConfig = ChannelConfigBase
else:  # the registered kinds, so that a new kind is its module and one registration line
    ChannelConfig = Annotated[
        Union[tuple(kind.config for kind in CHANNELS.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]


class Channel(BaseModel):
    """A named channel that monitors list in `channels`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    config: ChannelConfig


__all__ = [
    "NAME_PATTERN",
    "Channel",
    "ChannelConfig",
    "EmailChannel",
    "PagerDutyChannel",
    "SlackChannel",
    "WebhookChannel",
]
