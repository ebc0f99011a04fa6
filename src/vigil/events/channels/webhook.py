"""Webhook: the alert notification as JSON, signed with HMAC-SHA256 when the channel has a secret.

The signature header is ``X-Vigil-Signature: sha256=<hex of HMAC-SHA256(secret, body)>``. The
secret, the URL's path and query, and the header values are secrets (never shown back).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field

from vigil.caps import MAX_HEADERS
from vigil.events.channels.base import ChannelConfigBase, ChannelSender, post, url_endpoint
from vigil.events.settings import MonitorSettings

SIGNATURE_HEADER = "X-Vigil-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(ChannelConfigBase):
    """POST the alert as JSON, signed with HMAC-SHA256 of the body in `X-Vigil-Signature`."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    timeout: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Accepted for older files, not used: every failed notification is retried "
        "by the delivery worker with the one backoff (VIGIL_DELIVERY_BACKOFF_SECONDS).",
    )
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_HEADERS)


class Webhook(ChannelSender):
    config = WebhookChannel
    secrets = ("url", "secret", "headers")
    example = MappingProxyType(
        {
            "type": "webhook",
            "url": "http://127.0.0.1:9/in/PATHsecret0?token=QUERYsecret1",
            "secret": "SIGNINGsecret2",
            "headers": {"Authorization": "Bearer HEADERsecret3"},
        }
    )

    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        assert isinstance(config, WebhookChannel)
        body = json.dumps(payload, sort_keys=True).encode()
        headers = {
            **config.headers,
            "Content-Type": "application/json",
            "X-Vigil-Event": str(payload.get("event", "")),
        }
        if config.secret:
            headers[SIGNATURE_HEADER] = sign(config.secret, body)
        post(config.url, body, headers, settings.outbound_policy(), timeout=config.timeout)

    def endpoint(self, config: Any) -> tuple[str, int]:
        return url_endpoint(config.url)
