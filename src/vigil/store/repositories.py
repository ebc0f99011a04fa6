"""Typed access to the store's tables. Each repository takes a Session; callers own the transaction.

Monitored models and KPIs are here; profile windows and ingested batches in `profile_windows`,
API tokens in `tokens` (both also importable from here).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.api.specs import DEFAULT_MIN_LABEL_COVERAGE, ModelSpec
from vigil.errors import ConflictError, NotFoundError
from vigil.store.models import Kpi, MonitoredModel
from vigil.store.profile_windows import BatchRepository, WindowRepository
from vigil.store.sql import insert_for, utcnow
from vigil.store.tokens import TokenRepository, hash_token

__all__ = [
    "BatchRepository",
    "KpiRepository",
    "ModelCache",
    "ModelRepository",
    "TokenRepository",
    "WindowRepository",
    "hash_token",
    "spec_of",
    "utcnow",
]


class ModelRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, name: str) -> MonitoredModel | None:
        return self.session.scalars(
            select(MonitoredModel).where(MonitoredModel.name == name)
        ).one_or_none()

    def get(self, name: str) -> MonitoredModel:
        model = self.find(name)
        if model is None:
            known = self.session.scalars(select(MonitoredModel.name).limit(20)).all()
            raise NotFoundError(
                f"no monitored model named {name!r}; create it first "
                f"(known models: {sorted(known) or 'none'})",
                model=name,
            )
        return model

    def list(self) -> Sequence[MonitoredModel]:
        return self.session.scalars(select(MonitoredModel).order_by(MonitoredModel.name)).all()

    def create(self, spec: ModelSpec) -> tuple[MonitoredModel, bool]:
        """Create the model, or return the existing one if its spec is the same.

        Returns (model, created). A different spec under an existing name raises ConflictError.
        """
        values = {**spec.model_dump(), "created_at": utcnow()}
        statement = insert_for(self.session, MonitoredModel.__table__).values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=["name"])
        created = self.session.execute(statement.returning(MonitoredModel.id)).first() is not None
        model = self.get(spec.name)
        existing = spec_of(model)
        if not created and existing != spec:
            raise ConflictError(
                f"a model named {spec.name!r} already exists with a different definition; "
                "use another name",
                model=spec.name,
                existing=existing.model_dump(),
            )
        return model, created


class ModelCache:
    """Model ids and specs by name, kept by a Store for the life of the process.

    Safe because a monitored model is never changed once created (the same spec again is a
    no-op, another spec under its name is refused), so an entry can never go stale. Saves a query
    on every ingestion call.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, ModelSpec]] = {}
        self._lock = threading.Lock()

    def peek(self, name: str) -> tuple[int, ModelSpec] | None:
        """The model's id and spec if this cache holds them (reads nothing)."""
        return self._entries.get(name)

    def get(self, session: Session, name: str) -> tuple[int, ModelSpec]:
        entry = self._entries.get(name)
        if entry is None:
            model = ModelRepository(session).get(name)
            entry = (model.id, spec_of(model))
            with self._lock:
                self._entries[name] = entry
        return entry


def spec_of(model: MonitoredModel) -> ModelSpec:
    return ModelSpec(
        name=model.name,
        description=model.description,
        features=list(model.features),
        predictions=list(model.predictions),
        scores=list(model.scores),
        segments=list(model.segments),
        id_column=model.id_column,
        timestamp_column=model.timestamp_column,
        target_column=model.target_column,
        window_seconds=model.window_seconds,
        window=model.window,
        registry_model=model.registry_model,
        row_features=list(model.row_features or ()),
        min_label_coverage=(
            DEFAULT_MIN_LABEL_COVERAGE
            if model.min_label_coverage is None
            else model.min_label_coverage
        ),
    )


class KpiRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        name: str,
        value: float,
        timestamp: dt.datetime,
        model_id: int | None,
        version: str,
        created_by: str = "",
    ) -> Kpi:
        kpi = Kpi(
            name=name,
            value=value,
            timestamp=timestamp,
            model_id=model_id,
            version=version,
            created_at=utcnow(),
            created_by=created_by,
        )
        self.session.add(kpi)
        self.session.flush()
        return kpi

    def list(
        self,
        *,
        name: str | None = None,
        model_id: int | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int | None = None,
    ) -> Sequence[tuple[Kpi, str | None]]:
        query = select(Kpi, MonitoredModel.name).outerjoin(
            MonitoredModel, Kpi.model_id == MonitoredModel.id
        )
        if name is not None:
            query = query.where(Kpi.name == name)
        if model_id is not None:
            query = query.where(Kpi.model_id == model_id)
        if start is not None:
            query = query.where(Kpi.timestamp >= start)
        if end is not None:
            query = query.where(Kpi.timestamp < end)
        rows = self.session.execute(query.order_by(Kpi.timestamp, Kpi.id).limit(limit)).all()
        return [(kpi, model_name) for kpi, model_name in rows]
