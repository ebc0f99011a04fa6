"""The server's outbound address policy as a dependency: built once from the app's
MonitorSettings, the same settings the scheduler's and the event dispatcher's deliveries use, so
that configuration and delivery apply one policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from vigil.events.settings import MonitorSettings
from vigil.outbound import OutboundPolicy


def monitor_settings(request: Request) -> MonitorSettings:
    """`app.state.monitor_settings` when set (tests, embedding), else VIGIL_* variables."""
    settings: MonitorSettings | None = getattr(request.app.state, "monitor_settings", None)
    return settings or MonitorSettings()


async def get_outbound_policy(request: Request) -> OutboundPolicy:
    policy: OutboundPolicy | None = getattr(request.app.state, "outbound_policy", None)
    if policy is None:
        policy = request.app.state.outbound_policy = monitor_settings(request).outbound_policy()
    return policy


OutboundPolicyDep = Annotated[OutboundPolicy, Depends(get_outbound_policy)]
