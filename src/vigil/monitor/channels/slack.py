"""Slack incoming webhook: the alert as one line of text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vigil.monitor.channels.base import ChannelSender, post, summary
from vigil.monitor.definitions import SlackChannel
from vigil.monitor.settings import MonitorSettings


class Slack(ChannelSender):
    type = "slack"

    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        assert isinstance(config, SlackChannel)
        body = json.dumps({"text": summary(payload)}).encode()
        post(
            config.url, body, {"Content-Type": "application/json"}, settings, timeout=config.timeout
        )
