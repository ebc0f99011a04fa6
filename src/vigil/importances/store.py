"""Feature importances in the metadata store: save and load the global importances of a training
run or a registered model version.

The caller owns the transaction (like every repository of the store): these functions add and
flush, the caller commits.

>>> with store.session() as session:                                      # doctest: +SKIP
...     save_importances(session, run_id=run.id, method="shap", values={"age": 0.4})
...     session.commit()
...     load_importances(session, run_id=run.id)
{'age': 0.4}
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.store.explain_tables import AttributionWindowRow, FeatureImportanceRow
from vigil.store.registry_tables import RegisteredModel, RegistryModelVersion
from vigil.store.tracking_tables import Run

MAX_METHOD_LENGTH = 100
MAX_FEATURE_NAME_LENGTH = 500

__all__ = [
    "AttributionWindow",
    "ImportanceRecord",
    "check_importance_values",
    "combine",
    "list_importances",
    "load_importances",
    "merge_attributions",
    "model_version_id",
    "read_attributions",
    "save_importances",
]


@dataclass(frozen=True, slots=True)
class ImportanceRecord:
    """One logged set of importances, as stored."""

    id: int
    run_id: str | None
    model_version_id: int | None
    method: str
    values: dict[str, float]
    actor: str
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "model_version_id": self.model_version_id,
            "method": self.method,
            "values": dict(self.values),
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }


def check_method(method: str) -> str:
    if not isinstance(method, str) or not method.strip() or len(method) > MAX_METHOD_LENGTH:
        raise InvalidInputError(
            f"importance method {method!r} is not valid; give a name of 1 to "
            f"{MAX_METHOD_LENGTH} characters such as 'permutation' or 'shap'",
            method=str(method),
        )
    return method


def check_importance_values(values: Mapping[str, float]) -> dict[str, float]:
    """`values` as a plain dict of feature name -> finite float, else InvalidInputError."""
    if not isinstance(values, Mapping) or not values:
        raise InvalidInputError(
            "importance values must be a non-empty mapping of feature name -> number, "
            f"got {values!r}"
        )
    checked: dict[str, float] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name or len(name) > MAX_FEATURE_NAME_LENGTH:
            raise InvalidInputError(
                f"feature name {name!r} is not valid; use a string of 1 to "
                f"{MAX_FEATURE_NAME_LENGTH} characters",
                feature=str(name),
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            raise InvalidInputError(
                f"importance of feature {name!r} is {value!r}; it must be a finite number",
                feature=name,
            )
        checked[name] = number
    return checked


def _check_target(session: Session, run_id: str | None, model_version_id: int | None) -> None:
    if run_id is None and model_version_id is None:
        raise InvalidInputError(
            "importances belong to a training run or a model version: give run_id= or "
            "model_version_id= (or both)"
        )
    if run_id is not None and session.get(Run, run_id) is None:
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)
    if model_version_id is not None and session.get(RegistryModelVersion, model_version_id) is None:
        raise NotFoundError(
            f"no model version with id {model_version_id!r}", model_version_id=model_version_id
        )


def save_importances(
    session: Session,
    *,
    run_id: str | None = None,
    model_version_id: int | None = None,
    method: str,
    values: Mapping[str, float],
    actor: str = "",
) -> None:
    """Record a set of global importances for a run and/or a model version (added and flushed;
    commit the session to keep it). Earlier sets are kept: `load_importances` reads the latest."""
    checked = check_importance_values(values)
    check_method(method)
    _check_target(session, run_id, model_version_id)
    session.add(
        FeatureImportanceRow(
            run_id=run_id,
            model_version_id=model_version_id,
            method=method,
            values=checked,
            actor=actor,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    session.flush()


def _query(run_id: str | None, model_version_id: int | None, method: str | None) -> Any:
    if run_id is None and model_version_id is None:
        raise InvalidInputError("give run_id= or model_version_id= to read importances")
    query = select(FeatureImportanceRow)
    if run_id is not None:
        query = query.where(FeatureImportanceRow.run_id == run_id)
    if model_version_id is not None:
        query = query.where(FeatureImportanceRow.model_version_id == model_version_id)
    if method is not None:
        query = query.where(FeatureImportanceRow.method == method)
    return query.order_by(FeatureImportanceRow.id.desc())


def load_importances(
    session: Session,
    *,
    run_id: str | None = None,
    model_version_id: int | None = None,
    method: str | None = None,
) -> dict[str, float] | None:
    """The latest importances logged for the run / model version with `method` (or of any
    method when None); None when nothing was logged."""
    row = session.scalars(_query(run_id, model_version_id, method).limit(1)).first()
    return None if row is None else {str(k): float(v) for k, v in row.values.items()}


def list_importances(
    session: Session,
    *,
    run_id: str | None = None,
    model_version_id: int | None = None,
    method: str | None = None,
) -> list[ImportanceRecord]:
    """Every set logged for the run / model version (newest first)."""
    rows = session.scalars(_query(run_id, model_version_id, method)).all()
    return [
        ImportanceRecord(
            id=row.id,
            run_id=row.run_id,
            model_version_id=row.model_version_id,
            method=row.method,
            values={str(k): float(v) for k, v in row.values.items()},
            actor=row.actor,
            created_at=row.created_at,
        )
        for row in rows
    ]


def model_version_id(session: Session, name: str, version: int) -> int:
    """The store id of version `version` of registered model `name` (NotFoundError if absent)."""
    row = session.execute(
        select(RegistryModelVersion.id)
        .join(RegisteredModel, RegisteredModel.id == RegistryModelVersion.model_id)
        .where(RegisteredModel.name == name, RegistryModelVersion.version == version)
    ).first()
    if row is None:
        raise NotFoundError(
            f"registered model {name!r} has no version {version!r}", model=name, version=version
        )
    return int(row[0])


# production attributions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributionWindow:
    """The explained sample of one window: rows explained, and sum of |attribution| per
    feature; `mean_abs` is the production counterpart of the training mean |SHAP|."""

    start: dt.datetime
    end: dt.datetime
    version: str
    method: str
    n_rows: int
    sums: dict[str, float]

    @property
    def mean_abs(self) -> dict[str, float]:
        return {k: v / self.n_rows for k, v in self.sums.items()} if self.n_rows else {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "version": self.version,
            "method": self.method,
            "n_rows": self.n_rows,
            "mean_abs": self.mean_abs,
        }


def merge_attributions(
    session: Session,
    *,
    model_id: int,
    version: str,
    method: str,
    windows: Sequence[tuple[dt.datetime, dt.datetime, int, Mapping[str, float]]],
) -> None:
    """Add (start, end, n_rows, sums) of explained rows into the stored windows (sums and counts
    add up, so any split of the rows into uploads gives the same window). Flushes; the caller
    commits. A window logged with another method is a ConflictError."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    check_method(method)
    now = dt.datetime.now(dt.UTC)
    for start, end, n_rows, sums in windows:
        checked = check_importance_values(sums) if sums else {}
        if n_rows < 0:
            raise InvalidInputError(f"n_rows of window {start.isoformat()} is {n_rows}")
        session.execute(
            dialect.insert(AttributionWindowRow)
            .values(
                model_id=model_id,
                version=version,
                start=start,
                end=end,
                method=method,
                n_rows=0,
                sums={},
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["model_id", "version", "start"])
        )
        row = session.scalars(
            select(AttributionWindowRow)
            .where(
                AttributionWindowRow.model_id == model_id,
                AttributionWindowRow.version == version,
                AttributionWindowRow.start == start,
            )
            .with_for_update()
        ).one()
        if row.method != method:
            raise ConflictError(
                f"window {start.isoformat()} of version {version!r} holds {row.method} "
                f"attributions; these are {method}",
                method=method,
                stored_method=row.method,
            )
        merged = {str(k): float(v) for k, v in row.sums.items()}
        for name, value in checked.items():
            merged[name] = merged.get(name, 0.0) + abs(value)
        row.sums = merged
        row.n_rows = row.n_rows + n_rows
        row.updated_at = now
    session.flush()


def read_attributions(
    session: Session,
    model_id: int,
    *,
    version: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[AttributionWindow]:
    """Stored attribution windows of a model starting in [start, end), oldest first."""
    query = select(AttributionWindowRow).where(AttributionWindowRow.model_id == model_id)
    if version is not None:
        query = query.where(AttributionWindowRow.version == version)
    if start is not None:
        query = query.where(AttributionWindowRow.start >= start)
    if end is not None:
        query = query.where(AttributionWindowRow.start < end)
    rows = session.scalars(
        query.order_by(AttributionWindowRow.start, AttributionWindowRow.version)
    ).all()
    return [
        AttributionWindow(
            start=row.start,
            end=row.end,
            version=row.version,
            method=row.method,
            n_rows=row.n_rows,
            sums={str(k): float(v) for k, v in row.sums.items()},
        )
        for row in rows
    ]


def combine(windows: Sequence[AttributionWindow]) -> tuple[int, dict[str, float], set[str]]:
    """Rows, summed |attribution| per feature and methods over several stored windows."""
    n_rows = sum(w.n_rows for w in windows)
    sums: dict[str, float] = {}
    for window in windows:
        for name, value in window.sums.items():
            sums[name] = sums.get(name, 0.0) + value
    return n_rows, sums, {w.method for w in windows}
