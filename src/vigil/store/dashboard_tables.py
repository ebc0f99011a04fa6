"""Tables of the dashboard (the `dashboard` migration branch): web sessions, and a cache of
per-window drift scores and feature statistics so the heatmap and feature pages read small rows
instead of decoding every window's profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from vigil.store.base import Base, UTCDateTime


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie, the API token it signed in with, and the
    secret its forms must echo (CSRF)."""

    __tablename__ = "dashboard_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DriftCell(Base):
    """One window (an hour or a day) of a model against one reference: per feature, the drift
    severity and whether it drifted, and summary statistics (mean, quantiles, missing share).

    `source_arrival` is the latest arrival among the windows it was computed from; a later
    arrival (late data) makes the cell stale.
    """

    __tablename__ = "dashboard_drift_cells"
    __table_args__ = (
        UniqueConstraint("model_id", "reference", "granularity", "start", name="uq_drift_cell"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("monitored_models.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(300))
    granularity: Mapped[str] = mapped_column(String(10))
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    n_rows: Mapped[int] = mapped_column(BigInteger)
    source_arrival: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    """{feature: [severity, drifted (0/1)]}; severity 1.0 is the column's drift bar."""
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    """{feature: {"mean", "q05", "q50", "q95", "missing"}} (numeric), {"missing"} otherwise."""


def save_drift_cell(
    session: Session,
    *,
    model_id: int,
    reference: str,
    granularity: str,
    start: dt.datetime,
    n_rows: int,
    source_arrival: dt.datetime,
    scores: dict[str, Any] | None = None,
    stats: dict[str, Any] | None = None,
) -> None:
    """Write one cell (creating it, or replacing its figures: drift `scores` or feature `stats`)
    and commit. A cell another process created at the same time wins: its figures are as good."""
    row = session.scalars(
        select(DriftCell).where(
            DriftCell.model_id == model_id,
            DriftCell.reference == reference,
            DriftCell.granularity == granularity,
            DriftCell.start == start,
        )
    ).one_or_none()
    if row is None:
        row = DriftCell(
            model_id=model_id,
            reference=reference,
            granularity=granularity,
            start=start,
            scores={},
            stats={},
        )
        session.add(row)
    row.n_rows = n_rows
    row.source_arrival = source_arrival
    if scores is not None:
        row.scores = scores
    if stats is not None:
        row.stats = stats
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


CellSpan = tuple[dt.datetime, dt.datetime, tuple[str, ...]]
"""Cells of these granularities starting in [first, end)."""

_SPANS_PER_STATEMENT = 100


def delete_cells(
    session: Session, model_id: int, spans: Sequence[CellSpan], *, dry_run: bool = False
) -> int:
    """Delete the model's cells (every reference) of the granularities starting in each span's
    [first, end); returns how many (in a dry run: how many there are, none deleted). The caller
    commits. A cell is a cache: deleting one only means measuring it again when asked."""
    ids: set[int] = set()
    for i in range(0, len(spans), _SPANS_PER_STATEMENT):
        chunk = spans[i : i + _SPANS_PER_STATEMENT]
        within = or_(
            *(
                and_(
                    DriftCell.start >= first,
                    DriftCell.start < end,
                    DriftCell.granularity.in_(units),
                )
                for first, end, units in chunk
            )
        )
        ids.update(
            session.scalars(select(DriftCell.id).where(DriftCell.model_id == model_id, within))
        )
    if not dry_run:
        doomed = sorted(ids)
        for i in range(0, len(doomed), 500):
            session.execute(
                delete(DriftCell)
                .where(DriftCell.id.in_(doomed[i : i + 500]))
                .execution_options(synchronize_session=False)
            )
    return len(ids)
