"""Settings of monitoring and deliveries: the monitor section of the one `vigil.config.Settings`,
under the name the channels, deliveries and the scheduler have always imported it by."""

from __future__ import annotations

from vigil.config import MonitorSettings

__all__ = ["MonitorSettings"]
