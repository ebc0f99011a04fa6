"""Channel definitions: where an alert or an event is sent, validated at construction.

Secrets in them (URLs with keys, passwords, routing keys, headers) are write-only: the API and the
dashboard show them redacted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.caps import MAX_HEADERS, MAX_NAMES

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookChannel(_Frozen):
    """POST the alert as JSON, signed with HMAC-SHA256 of the body in `X-Vigil-Signature`."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    timeout: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_HEADERS)


class SlackChannel(_Frozen):
    """A Slack incoming webhook."""

    type: Literal["slack"] = "slack"
    url: str = Field(pattern=r"^https?://")
    timeout: float = Field(default=5.0, gt=0, le=60)


class EmailChannel(_Frozen):
    """Email over SMTP (STARTTLS when `starttls`; login when `username` is given)."""

    type: Literal["email"] = "email"
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    to: tuple[str, ...] = Field(min_length=1, max_length=MAX_NAMES)
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = Field(default=10.0, gt=0, le=120)


class PagerDutyChannel(_Frozen):
    """PagerDuty Events API v2: trigger on open, resolve when the alert resolves (dedup key)."""

    type: Literal["pagerduty"] = "pagerduty"
    routing_key: str = Field(min_length=1)
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://")
    timeout: float = Field(default=5.0, gt=0, le=60)


ChannelConfig = Annotated[
    WebhookChannel | SlackChannel | EmailChannel | PagerDutyChannel, Field(discriminator="type")
]


class Channel(_Frozen):
    """A named channel that monitors list in `channels`."""

    name: str = Field(pattern=NAME_PATTERN)
    config: ChannelConfig
