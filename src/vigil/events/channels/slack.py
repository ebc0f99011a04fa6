"""Slack incoming webhook: the alert as one line of text. The URL is the secret (its path is the
key)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field

from vigil.events.channels.base import (
    ChannelConfigBase,
    ChannelSender,
    post,
    summary,
    url_endpoint,
)
from vigil.events.settings import MonitorSettings


class SlackChannel(ChannelConfigBase):
    """A Slack incoming webhook."""

    type: Literal["slack"] = "slack"
    url: str = Field(pattern=r"^https?://")
    timeout: float = Field(default=5.0, gt=0, le=60)


class Slack(ChannelSender):
    config = SlackChannel
    secrets = ("url",)
    example = MappingProxyType(
        {"type": "slack", "url": "http://127.0.0.1:9/services/T0/B0/SLACKsecret0"}
    )

    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        assert isinstance(config, SlackChannel)
        body = json.dumps({"text": summary(payload)}).encode()
        headers = {"Content-Type": "application/json"}
        post(config.url, body, headers, settings.outbound_policy(), timeout=config.timeout)

    def endpoint(self, config: Any) -> tuple[str, int]:
        return url_endpoint(config.url)
