"""PagerDuty Events API v2: trigger when an alert opens, resolve when it resolves (one dedup key
per alert). The routing key is the secret."""

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

SEVERITIES = {"info": "info", "warning": "warning", "critical": "critical"}


class PagerDutyChannel(ChannelConfigBase):
    """PagerDuty Events API v2: trigger on open, resolve when the alert resolves (dedup key)."""

    type: Literal["pagerduty"] = "pagerduty"
    routing_key: str = Field(min_length=1)
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://")
    timeout: float = Field(default=5.0, gt=0, le=60)


def dedup_key(payload: Mapping[str, Any]) -> str:
    return f"vigil-alert-{payload['id']}"


def event(config: PagerDutyChannel, payload: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": config.routing_key,
        "event_action": "resolve" if payload.get("event") == "resolve" else "trigger",
        "dedup_key": dedup_key(payload),
    }
    if body["event_action"] == "trigger":
        body["payload"] = {
            "summary": summary(payload)[:1024],
            "source": f"vigil/{payload['target']}",
            "severity": SEVERITIES.get(str(payload["severity"]), "warning"),
            "component": str(payload["monitor"]),
            "custom_details": dict(payload),
        }
    return body


class PagerDuty(ChannelSender):
    config = PagerDutyChannel
    secrets = ("routing_key", "url")
    example = MappingProxyType(
        {
            "type": "pagerduty",
            "routing_key": "ROUTINGsecret0",
            "url": "http://127.0.0.1:9/v2/enqueue/PATHsecret1",
        }
    )

    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        assert isinstance(config, PagerDutyChannel)
        body = json.dumps(event(config, payload)).encode()
        headers = {"Content-Type": "application/json"}
        post(config.url, body, headers, settings.outbound_policy(), timeout=config.timeout)

    def endpoint(self, config: Any) -> tuple[str, int]:
        return url_endpoint(config.url)
