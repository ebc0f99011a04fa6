"""Settings of monitoring: the scheduler and alert deliveries (VIGIL_* environment variables)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MonitorSettings(BaseSettings):
    """Build one at start-up and pass it to the scheduler and the channels."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore", frozen=True)

    monitor_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the server's scheduler evaluates monitors."
    )
    monitor_scheduler: bool = Field(
        default=True, description="Run the monitor scheduler inside the server."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhook, Slack and PagerDuty channels reach private-network addresses.",
    )
    webhook_allow_loopback: bool = Field(
        default=False, description="Let HTTP channels reach loopback addresses (127.0.0.1, ::1)."
    )
    delivery_max_attempts: int = Field(
        default=12, ge=1, description="Attempts of one notification before it is marked failed."
    )
    delivery_backoff_seconds: float = Field(
        default=30.0, ge=0, description="First wait before retrying a failed notification; doubles."
    )
