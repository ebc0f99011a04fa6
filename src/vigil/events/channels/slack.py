"""Slack incoming webhook: the alert as one line of text. The URL is the secret (its path is the
key)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vigil.events.channels.base import ChannelSender, post, redacted, summary, url_endpoint
from vigil.events.channels.definitions import SlackChannel
from vigil.events.settings import MonitorSettings


class Slack(ChannelSender):
    type = "slack"

    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        assert isinstance(config, SlackChannel)
        body = json.dumps({"text": summary(payload)}).encode()
        headers = {"Content-Type": "application/json"}
        post(config.url, body, headers, settings.outbound_policy(), timeout=config.timeout)

    def endpoint(self, config: Any) -> tuple[str, int]:
        return url_endpoint(config.url)

    def redact(self, config: Any) -> Any:
        return redacted(config, url=config.url)
