"""What every channel kind shares: its configuration model's base, the sender interface (deliver
one notification, say where it connects, name its secret fields), delivery errors, and one HTTP
POST through the outbound policy.

A POST is one attempt: it is never repeated here. A failed notification stays in the outbox and is
retried by the one delivery worker with the one backoff (`vigil.events.delivery.RetryPolicy`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

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


class ChannelConfigBase(BaseModel):
    """The base of every kind's configuration model: frozen, unknown fields refused, and a
    `type` field that each kind narrows to its one `Literal` name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str


class DeliveryError(VigilError):
    """A notification could not be delivered (it stays queued and is retried)."""

    status_code = 502
    code = "delivery_failed"


class ChannelSender(ABC):
    """One kind of channel: its module holds its configuration model and one subclass of this,
    and `vigil.events.channels.registry` lists it on one line.

    `config` is the configuration model (its `type` default is the kind's name), `secrets` the
    configuration fields that are write-only, `example` a configuration with every secret set and
    a loopback address, which the contract test over every kind uses."""

    config: ClassVar[type[ChannelConfigBase]]
    secrets: ClassVar[tuple[str, ...]]
    example: ClassVar[Mapping[str, Any]]

    @property
    def type(self) -> str:
        """The kind's name: its configuration's `type` (one fact, one place)."""
        return str(self.config.model_fields["type"].default)

    @abstractmethod
    def send(self, config: Any, payload: Mapping[str, Any], settings: MonitorSettings) -> None:
        """Deliver one alert notification (`payload["event"]` is "trigger" or "resolve"), once;
        raise DeliveryError on failure. Connections go through `settings.outbound_policy()`."""

    @abstractmethod
    def endpoint(self, config: Any) -> tuple[str, int]:
        """The host and port this channel connects to."""

    def redact(self, config: Any) -> Any:
        """The configuration as it may be shown (API, dashboard, CLI, logs): each secret field
        (URL path and query, key, password, header values) replaced so that only its presence
        shows."""
        return redacted(config, **{field: getattr(config, field) for field in self.secrets})

    def secret_values(self, config: Any) -> list[str]:
        """The secret strings of `config`, to scrub them from errors and logs."""
        values: list[str] = []
        for field in self.secrets:
            value = getattr(config, field)
            if isinstance(value, Mapping):
                values += [str(v) for v in value.values()]
            elif value:
                values.append(str(value))
        return values

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
    url: str, body: bytes, headers: Mapping[str, str], policy: OutboundPolicy, *, timeout: float
) -> HttpAnswer:
    """POST `body` once to the address `url`'s host resolves to, checked by `policy` and pinned
    for the connection; DeliveryError unless the answer is 2xx. Errors name the host only (a URL's
    path and query may hold a key)."""
    host = url_endpoint(url)[0]
    with pinned_http(url, policy, timeout=timeout) as http:
        try:
            answer = http.post(body, headers)
        except HTTP_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status < 300:
                return answer
            text = answer.body[:200].decode("utf-8", errors="replace")
            error = f"HTTP {answer.status}: {text}"
    raise DeliveryError(f"POST to {host} failed: {scrub(error, [url])}")


def summary(payload: Mapping[str, Any]) -> str:
    """A one-line text of an alert notification."""
    state = "RESOLVED" if payload.get("event") == "resolve" else str(payload["severity"]).upper()
    return (
        f"[{state}] {payload['monitor']} on {payload['target']}: {payload['message']} "
        f"(window {payload['last_window_start']})"
    )
