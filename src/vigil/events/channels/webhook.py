"""Webhook: the alert as JSON, signed with HMAC-SHA256 when the channel has a secret.

The signature header is ``X-Vigil-Signature: sha256=<hex of HMAC-SHA256(secret, body)>``. The
secret, the URL's path and query, and the header values are secrets (never shown back).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from vigil.events.channels.base import ChannelSender, post, redacted, url_endpoint
from vigil.events.channels.definitions import WebhookChannel
from vigil.events.settings import MonitorSettings

SIGNATURE_HEADER = "X-Vigil-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook(ChannelSender):
    type = "webhook"

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
        post(
            config.url,
            body,
            headers,
            settings.outbound_policy(),
            timeout=config.timeout,
            retries=config.retries,
        )

    def endpoint(self, config: Any) -> tuple[str, int]:
        return url_endpoint(config.url)

    def redact(self, config: Any) -> Any:
        return redacted(config, url=config.url, secret=config.secret, headers=config.headers)
