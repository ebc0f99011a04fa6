"""Settings of monitoring: the scheduler and alert deliveries (VIGIL_* environment variables)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.outbound import OutboundPolicy, parse_networks


class MonitorSettings(BaseSettings):
    """Build one at start-up and pass it to the scheduler and the channels."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore", frozen=True)

    monitor_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the server's scheduler evaluates monitors."
    )
    monitor_scheduler: bool = Field(
        default=True, description="Run the monitor scheduler inside the server."
    )
    outbound_allow: str = Field(
        default="",
        description="Networks (comma-separated CIDR, `*` for all) that channels and event "
        "subscriptions may reach besides global addresses; loopback, private, link-local, "
        "multicast and other non-global addresses are refused otherwise.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Shorthand: add the private networks (10/8, 172.16/12, 192.168/16, "
        "100.64/10, fc00::/7) to `outbound_allow`.",
    )
    webhook_allow_loopback: bool = Field(
        default=False, description="Shorthand: add 127.0.0.0/8 and ::1 to `outbound_allow`."
    )
    delivery_max_attempts: int = Field(
        default=12, ge=1, description="Attempts of one notification before it is marked failed."
    )
    delivery_backoff_seconds: float = Field(
        default=30.0, ge=0, description="First wait before retrying a failed notification; doubles."
    )

    @field_validator("outbound_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a bad entry stops start-up, naming it
        return value

    def outbound_policy(self) -> OutboundPolicy:
        """The outbound address policy of channels and event subscriptions."""
        return OutboundPolicy.parse(
            self.outbound_allow,
            allow_loopback=self.webhook_allow_loopback,
            allow_private=self.webhook_allow_private,
        )
