"""Tables of explainability (the `explain` migration branch).

`feature_importances`: one logged set of global importances (feature -> value) of a training run
or a registered model version, by method (`permutation`, `shap`, or a name the user chose).
`attribution_windows`: per model, version and window, the sum of |attribution| per feature over
the sampled production rows explained at log time, and how many rows; sums and counts merge by
addition, so uploads of any size land in the same window and the mean is `sum / n_rows`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base, UTCDateTime


class FeatureImportanceRow(Base):
    """Global importances of a run or a model version; the latest set of a method wins on read."""

    __tablename__ = "feature_importances"
    __table_args__ = (
        Index("ix_feature_importances_run_method", "run_id", "method", "id"),
        Index("ix_feature_importances_version_method", "model_version_id", "method", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
    )
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_model_versions.id", ondelete="CASCADE"), nullable=True
    )
    method: Mapped[str] = mapped_column(String(100))
    values: Mapped[dict[str, float]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AttributionWindowRow(Base):
    """Sum of |attribution| per feature over the explained sample of one production window."""

    __tablename__ = "attribution_windows"
    __table_args__ = (
        UniqueConstraint("model_id", "version", "start", name="uq_attribution_window"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("monitored_models.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(200), default="")
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(100))
    n_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    sums: Mapped[dict[str, float]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
