"""Tables of the monitor area: monitors, channels, per-window results, alerts and their history.
Alert notifications are events of the outbox and their deliveries (`collab_tables`).

They refer to monitored models by name, not by a foreign key (another migration branch owns them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base, UTCDateTime


class MonitorRow(Base):
    """A monitor's definition (the validated `MonitorSpec` as JSON) and its evaluation cursor."""

    __tablename__ = "monitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    evaluated_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """End of the latest window evaluated as closed (the scheduler continues from here)."""
    created_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """Who created and who last changed the monitor (`collab` branch)."""


class ChannelRow(Base):
    """A notification channel (webhook, Slack, email, PagerDuty) that monitors name."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class MonitorResultRow(Base):
    """One evaluation of a monitor on one window: the statistic, its bounds, whether it breached."""

    __tablename__ = "monitor_results"
    __table_args__ = (UniqueConstraint("monitor_id", "window_start", name="uq_monitor_result"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    monitor_id: Mapped[int] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), index=True
    )
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    lower: Mapped[float | None] = mapped_column(Float, nullable=True)
    upper: Mapped[float | None] = mapped_column(Float, nullable=True)
    breached: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AlertRow(Base):
    """An alert: one per monitor and target while open or acknowledged, updated as it persists."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_monitor_target_state", "monitor_id", "target", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    monitor_id: Mapped[int] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), index=True
    )
    monitor_name: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    n_windows: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlertEventRow(Base):
    """A change of an alert's state: opened, updated, acknowledged, resolved; who and when."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
