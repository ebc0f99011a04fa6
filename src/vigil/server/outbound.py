"""The server's outbound address policy as a dependency: built from the app's monitor settings
(the one `Settings`, overridable through `get_settings`), the same settings the delivery worker
uses, so that configuration and delivery apply one policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from vigil.outbound import OutboundPolicy
from vigil.server.deps import MonitorSettingsDep


async def get_outbound_policy(settings: MonitorSettingsDep) -> OutboundPolicy:
    return settings.outbound_policy()


OutboundPolicyDep = Annotated[OutboundPolicy, Depends(get_outbound_policy)]
