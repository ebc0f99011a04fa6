"""The rows ingestion writes: profile windows (one merged profile per model, version, segment and
window) and ingested batches (one per upload id, so a retried upload counts once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from vigil.store.models import IngestedBatch, MonitoredModel, ProfileWindow
from vigil.store.sql import utcnow

# Statements with bound parameters are built once: SQLAlchemy then reuses their compiled form
# instead of hashing every call's literal values (a profile blob among them) into a cache key.
_MERGE_WINDOW = (
    update(ProfileWindow)
    .where(ProfileWindow.id == bindparam("window_id"))
    .values(
        profile=bindparam("profile"),
        n_rows=ProfileWindow.n_rows + bindparam("added_rows"),
        n_uploads=ProfileWindow.n_uploads + 1,
        end=bindparam("end"),
        first_arrival=bindparam("first_arrival"),
        last_arrival=bindparam("last_arrival"),
    )
    .execution_options(synchronize_session=False)
)


_LOCK_WINDOW = (
    select(
        ProfileWindow.id,
        ProfileWindow.profile,
        ProfileWindow.end,
        ProfileWindow.first_arrival,
        ProfileWindow.last_arrival,
    )
    .where(
        (ProfileWindow.model_id == bindparam("model_id"))
        & (ProfileWindow.version == bindparam("version"))
        & (ProfileWindow.segment == bindparam("segment"))
        & (ProfileWindow.start == bindparam("start"))
    )
    .with_for_update()
)


def _new_window(insert: Any) -> Any:
    columns = ["model_id", "version", "segment", "start", "end", "n_rows", "n_uploads"]
    columns += ["first_arrival", "last_arrival", "profile"]
    statement = insert(ProfileWindow.__table__).values({c: bindparam(c) for c in columns})
    return statement.on_conflict_do_nothing().returning(ProfileWindow.id)


def _claim_batch(insert: Any) -> Any:
    columns = ["batch_id", "model_id", "kind", "n_rows", "received_at"]
    statement = insert(IngestedBatch.__table__).values({c: bindparam(c) for c in columns})
    return statement.on_conflict_do_nothing().returning(IngestedBatch.batch_id)


# Per backend (ON CONFLICT is dialect-specific), built once.
_NEW_WINDOW = {"postgresql": _new_window(postgresql.insert), "sqlite": _new_window(sqlite.insert)}
_CLAIM_BATCH = {
    "postgresql": _claim_batch(postgresql.insert),
    "sqlite": _claim_batch(sqlite.insert),
}


def _statement(session: Session, by_dialect: dict[str, Any]) -> Any:
    return by_dialect["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]


class WindowRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def merge(
        self,
        model_id: int,
        version: str,
        start: dt.datetime,
        end: dt.datetime,
        n_rows: int,
        blob: bytes,
        combine: Callable[[bytes], bytes],
        arrival: dt.datetime,
        segment: str = "",
    ) -> None:
        """Fold `blob` into the window's stored profile (created on first upload).

        `segment` is "" for the whole traffic, or `"<column>=<value>"` for one segment's share.

        Concurrent uploads to one window are safe: the row is locked (SELECT ... FOR UPDATE on
        PostgreSQL; a SQLite transaction holds the write lock), and a missing row is created with
        ON CONFLICT DO NOTHING, so of two first uploads one creates it and the other merges.
        """
        key = {"model_id": model_id, "version": version, "segment": segment, "start": start}
        for _ in range(2):
            row = self.session.execute(_LOCK_WINDOW, key).first()
            if row is not None:
                self.session.execute(
                    _MERGE_WINDOW,
                    {
                        "window_id": row.id,
                        "profile": combine(row.profile),
                        "added_rows": n_rows,
                        "end": max(row.end, end),
                        "first_arrival": min(row.first_arrival, arrival),
                        "last_arrival": max(row.last_arrival, arrival),
                    },
                )
                return
            values = {
                **key,
                "end": end,
                "n_rows": n_rows,
                "n_uploads": 1,
                "first_arrival": arrival,
                "last_arrival": arrival,
                "profile": blob,
            }
            if self.session.execute(_statement(self.session, _NEW_WINDOW), values).first():
                return
        raise RuntimeError(
            f"window {start.isoformat()} of model {model_id} neither found nor created"
        )

    def list(
        self,
        model_id: int,
        *,
        version: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        segment: str = "",
        limit: int | None = None,
        profiles: bool = True,
    ) -> Sequence[ProfileWindow]:
        """The model's windows of one segment ("" = the whole traffic), oldest first: the first
        `limit`, and without their profile blobs unless `profiles` (they are loaded if read)."""
        query = select(ProfileWindow).where(
            (ProfileWindow.model_id == model_id) & (ProfileWindow.segment == segment)
        )
        if version is not None:
            query = query.where(ProfileWindow.version == version)
        if start is not None:
            query = query.where(ProfileWindow.start >= start)
        if end is not None:
            query = query.where(ProfileWindow.start < end)
        query = query.order_by(ProfileWindow.start, ProfileWindow.version).limit(limit)
        if not profiles:
            query = query.options(defer(ProfileWindow.profile))
        return self.session.scalars(query).all()

    def segments(self, model_id: int) -> Sequence[str]:
        """The segment keys the model has windows for (without "", the whole traffic)."""
        rows = self.session.scalars(
            select(ProfileWindow.segment)
            .where((ProfileWindow.model_id == model_id) & (ProfileWindow.segment != ""))
            .distinct()
            .order_by(ProfileWindow.segment)
        )
        return list(rows)

    def last_arrivals(self) -> dict[str, dt.datetime]:
        """The latest arrival time per model name (for /metrics)."""
        rows = self.session.execute(
            select(MonitoredModel.name, func.max(ProfileWindow.last_arrival))
            .join(ProfileWindow, ProfileWindow.model_id == MonitoredModel.id)
            .group_by(MonitoredModel.name)
        ).all()
        return {name: value.replace(tzinfo=dt.UTC) for name, value in rows if value is not None}


class BatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, batch_id: str, model_id: int | None, kind: str, n_rows: int) -> bool:
        """Record `batch_id`; False when it had been recorded before (a retry or a replay)."""
        values = {
            "batch_id": batch_id,
            "model_id": model_id,
            "kind": kind,
            "n_rows": n_rows,
            "received_at": utcnow(),
        }
        return (
            self.session.execute(_statement(self.session, _CLAIM_BATCH), values).first() is not None
        )

    def claimed(self, batch_ids: Sequence[str]) -> set[str]:
        """Which of `batch_ids` have been recorded and not superseded by a compaction."""
        return self._select(batch_ids, IngestedBatch.superseded_by.is_(None))

    def superseded(self, batch_ids: Sequence[str]) -> set[str]:
        """Which of `batch_ids` a compaction has superseded (their files can be deleted)."""
        return self._select(batch_ids, IngestedBatch.superseded_by.is_not(None))

    def _select(self, batch_ids: Sequence[str], condition: Any) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(batch_ids), 500):
            chunk = list(batch_ids[i : i + 500])
            found.update(
                self.session.scalars(
                    select(IngestedBatch.batch_id).where(
                        IngestedBatch.batch_id.in_(chunk), condition
                    )
                )
            )
        return found

    def supersede(self, batch_ids: Sequence[str], by: str) -> int:
        """Mark live `batch_ids` as superseded by batch `by`; returns how many were live."""
        count = 0
        for i in range(0, len(batch_ids), 500):
            chunk = list(batch_ids[i : i + 500])
            result = self.session.execute(
                update(IngestedBatch)
                .where(IngestedBatch.batch_id.in_(chunk), IngestedBatch.superseded_by.is_(None))
                .values(superseded_by=by)
                .returning(IngestedBatch.batch_id)
                .execution_options(synchronize_session=False)
            )
            count += len(result.all())
        return count
