"""What every channel shares: the sender interface, delivery errors, the address policy, and an
HTTP POST with timeouts and retries."""

from __future__ import annotations

import ipaddress
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from vigil.errors import VigilError
from vigil.monitor.settings import MonitorSettings


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
        DeliveryError on failure."""


def check_address(url: str, settings: MonitorSettings) -> None:
    """Refuse URLs whose host resolves to a loopback or private address unless allowed."""
    host = urlsplit(url).hostname
    if not host:
        raise DeliveryError(f"the URL {url!r} has no host")
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise DeliveryError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address.is_loopback:
            if not settings.webhook_allow_loopback:
                raise DeliveryError(
                    f"{host!r} is a loopback address ({address}); set "
                    "VIGIL_WEBHOOK_ALLOW_LOOPBACK=true to allow it"
                )
        elif not address.is_global and not settings.webhook_allow_private:
            raise DeliveryError(
                f"{host!r} is a private or reserved address ({address}); set "
                "VIGIL_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    settings: MonitorSettings,
    *,
    timeout: float,
    retries: int = 0,
    backoff: float = 0.5,
) -> httpx.Response:
    """POST `body`, retrying connection errors and 5xx/429 answers with doubling waits."""
    check_address(url, settings)
    error = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code < 300:
            return response
        error = f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code < 500 and response.status_code != 429:
            break
    raise DeliveryError(f"POST to {urlsplit(url).netloc} failed: {error}")


def summary(payload: Mapping[str, Any]) -> str:
    """A one-line text of an alert event."""
    state = "RESOLVED" if payload.get("event") == "resolve" else str(payload["severity"]).upper()
    return (
        f"[{state}] {payload['monitor']} on {payload['target']}: {payload['message']} "
        f"(window {payload['last_window_start']})"
    )
