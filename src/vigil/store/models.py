"""The metadata store's tables (SQLAlchemy 2.0). Migrations in `vigil/store/migrations` create them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base, UTCDateTime


class MonitoredModel(Base):
    """A model in production and the roles of the columns it logs."""

    __tablename__ = "monitored_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    features: Mapped[list[str]] = mapped_column(JSON)
    predictions: Mapped[list[str]] = mapped_column(JSON)
    scores: Mapped[list[str]] = mapped_column(JSON)
    segments: Mapped[list[str]] = mapped_column(JSON)
    id_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    timestamp_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    target_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    window_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    registry_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    window: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """The grid when `window_seconds` cannot say it (see `vigil.api.specs.ModelSpec.window`)."""
    min_label_coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    """NULL at the default (`vigil.api.specs.DEFAULT_MIN_LABEL_COVERAGE`)."""
    row_features: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    """Features stored with each prediction row; NULL for none (`ModelSpec.row_features`)."""


SEGMENT_KEY_LENGTH = 400


class ProfileWindow(Base):
    """The merged profile of everything a model logged in one window, with volume and arrivals."""

    __tablename__ = "profile_windows"
    __table_args__ = (
        UniqueConstraint("model_id", "version", "segment", "start", name="uq_window_key"),
        Index("ix_profile_windows_model_last_arrival", "model_id", "last_arrival"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("monitored_models.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(200), default="")
    segment: Mapped[str] = mapped_column(String(SEGMENT_KEY_LENGTH), default="", server_default="")
    """"" for the whole traffic, else one segment's share of it: `"<column>=<value>"`."""
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    n_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    n_uploads: Mapped[int] = mapped_column(Integer, default=0)
    first_arrival: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_arrival: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    profile: Mapped[bytes] = mapped_column(LargeBinary)
    kinds: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    """The column kinds of the window's profile and parts (`vigil.store.window_kinds`), kept up
    to date by every upload under the window's row lock; NULL when not known (a window written
    before this column, or rolled up): the next upload computes them from the pieces."""


class ProfileWindowPart(Base):
    """One upload's profile for a window, appended by a log call and not yet folded into the
    window's `profile` (which then holds the merge of the uploads compacted so far)."""

    __tablename__ = "profile_window_parts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    window_id: Mapped[int] = mapped_column(
        ForeignKey("profile_windows.id", ondelete="CASCADE"), index=True
    )
    n_rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    profile: Mapped[bytes] = mapped_column(LargeBinary)


class RetentionPolicy(Base):
    """How long a model's data is kept; NULL keeps it for ever. One row per model that has one."""

    __tablename__ = "retention_policies"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("monitored_models.id", ondelete="CASCADE"), primary_key=True
    )
    rows_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Raw prediction and label rows are deleted after this many days."""
    daily_after_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Windows shorter than a day are rolled up into daily ones after this many days."""
    monthly_after_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Daily windows are rolled up into monthly ones after this many days."""
    alerts_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Resolved alerts (and their history) are deleted this many days after resolution."""
    events_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The model's events (and their deliveries) are deleted after this many days."""
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class IngestedBatch(Base):
    """Batch ids already applied: a retried or spooled upload is applied once."""

    __tablename__ = "ingested_batches"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitored_models.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    n_rows: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    superseded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The compacted batch whose file now holds this batch's rows."""


class ApiToken(Base):
    """An API token: only its SHA-256 is kept; the secret is shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the token last authenticated a request, to the minute (see `store.tokens`)."""


class Kpi(Base):
    """One value of a business KPI, optionally tied to a model and version."""

    __tablename__ = "kpis"
    __table_args__ = (Index("ix_kpis_name_timestamp", "name", "timestamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitored_models.id", ondelete="CASCADE"), nullable=True, index=True
    )
    version: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """Who logged it: the token's owner through the server, the OS user in a local store."""


from vigil.store import collab_tables as collab_tables  # noqa: E402  (registers the tables)
from vigil.store import dashboard_tables as dashboard_tables  # noqa: E402  (registers the tables)
from vigil.store import explain_tables as explain_tables  # noqa: E402  (registers the tables)
from vigil.store import mlflow_tables as mlflow_tables  # noqa: E402  (registers the tables)
from vigil.store import monitor_tables as monitor_tables  # noqa: E402  (registers the tables)
from vigil.store import registry_tables as registry_tables  # noqa: E402  (registers the tables)
from vigil.store import tracking_tables as tracking_tables  # noqa: E402  (registers the tables)
