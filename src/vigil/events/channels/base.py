"""What every channel shares: the sender interface (delivery, where it connects, what of its
configuration is secret), delivery errors, and an HTTP POST through the outbound policy with
timeouts and retries."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from vigil.errors import VigilError
from vigil.events.settings import MonitorSettings
from vigil.outbound import (
    HTTP_ERRORS,
    HttpAnswer,
    OutboundPolicy,
    check_configured,
    endpoint,
    mask_url,
    pinned_http,
    scrub,
)

SET = "***set***"
"""What the API, the dashboard and the CLI show in place of a secret that is set."""


class DeliveryError(VigilError):
    """A notification could not be delivered (it stays queued and is retried)."""

    status_code = 502
    code = "delivery_failed"


class ChannelSender(ABC):
    """One kind of channel: one module, one subclass, one registration line."""

    type: ClassVar[str]

    @abstractmethod
    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        """Deliver one alert event (`payload["event"]` is "trigger" or "resolve"); raise
        DeliveryError on failure. Connections go through `settings.outbound_policy()`."""

    @abstractmethod
    def endpoint(self, config: Any) -> tuple[str, int]:
        """The host and port this channel connects to."""

    @abstractmethod
    def redact(self, config: Any) -> Any:
        """The configuration as it may be shown (API, dashboard, CLI, logs): each secret (URL
        path and query, key, password, header value) replaced so that only its presence shows."""

    def check(self, config: Any, policy: OutboundPolicy) -> None:
        """The configuration-time address check (OutboundAddressError naming the rule)."""
        host, port = self.endpoint(config)
        check_configured(host, port, policy)


def url_endpoint(url: str) -> tuple[str, int]:
    target = endpoint(url)
    return target.host, target.port


def redacted(config: BaseModel, **secrets: Any) -> Any:
    """`config` with the given fields replaced: a URL masked by `mask_url`, a string by SET (None
    and "" stay, to show that nothing is set), a mapping's values by SET."""
    hidden: dict[str, Any] = {}
    for field, value in secrets.items():
        if isinstance(value, Mapping):
            hidden[field] = {k: SET for k in value}
        elif field == "url" and value:
            hidden[field] = mask_url(str(value))
        elif value:
            hidden[field] = SET
    return config.model_copy(update=hidden)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: OutboundPolicy,
    *,
    timeout: float,
    retries: int = 0,
    backoff: float = 0.5,
) -> HttpAnswer:
    """POST `body` to the address `url`'s host resolves to, checked by `policy` and pinned for
    every attempt; retry connection errors and 5xx/429 answers with doubling waits. Errors name
    the host only (a URL's path and query may hold a key)."""
    host = url_endpoint(url)[0]
    error = ""
    with pinned_http(url, policy, timeout=timeout) as http:
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                answer = http.post(body, headers)
            except HTTP_ERRORS as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            if answer.status < 300:
                return answer
            text = answer.body[:200].decode("utf-8", errors="replace")
            error = f"HTTP {answer.status}: {text}"
            if answer.status < 500 and answer.status != 429:
                break
    raise DeliveryError(f"POST to {host} failed: {scrub(error, [url])}")


def summary(payload: Mapping[str, Any]) -> str:
    """A one-line text of an alert event."""
    state = "RESOLVED" if payload.get("event") == "resolve" else str(payload["severity"]).upper()
    return (
        f"[{state}] {payload['monitor']} on {payload['target']}: {payload['message']} "
        f"(window {payload['last_window_start']})"
    )
