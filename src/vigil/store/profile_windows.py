"""The rows ingestion writes: profile windows (one profile per model, version, segment and window:
its folded `profile` plus the parts appended since) and ingested batches (one per upload id, so a
retried upload counts once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from vigil.store.base import UTCDateTime
from vigil.store.hot_sql import Prepared
from vigil.store.models import IngestedBatch, MonitoredModel, ProfileWindow, ProfileWindowPart
from vigil.store.sql import utcnow
from vigil.store.stored_profiles import (
    attach_stored,
)

# Statements with bound parameters are built once: SQLAlchemy then reuses their compiled form
# instead of hashing every call's literal values (a profile blob among them) into a cache key.
# Core statements on the tables (no ORM bookkeeping on the hot path). UPDATE reserves the column
# names for its SET clause: the key's parameters are named k_*.
_WINDOWS = cast(Table, ProfileWindow.__table__).c
_KEY = (
    (_WINDOWS.model_id == bindparam("k_model_id"))
    & (_WINDOWS.version == bindparam("k_version"))
    & (_WINDOWS.segment == bindparam("k_segment"))
    & (_WINDOWS.start == bindparam("k_start"))
)
_END = bindparam("new_end", type_=UTCDateTime())
_ARRIVAL = bindparam("arrival", type_=UTCDateTime())

# Later uploads to a window: one atomic update of its counters (no read of its blob), returning
# its id for the parts.
_COUNT_UPLOAD = (
    update(cast(Table, ProfileWindow.__table__))
    .where(_KEY)
    .values(
        n_rows=_WINDOWS.n_rows + bindparam("added_rows"),
        n_uploads=_WINDOWS.n_uploads + bindparam("added_uploads"),
        end=case((_WINDOWS.end < _END, _END), else_=_WINDOWS.end),
        first_arrival=case(
            (_WINDOWS.first_arrival > _ARRIVAL, _ARRIVAL), else_=_WINDOWS.first_arrival
        ),
        last_arrival=case(
            (_WINDOWS.last_arrival < _ARRIVAL, _ARRIVAL), else_=_WINDOWS.last_arrival
        ),
    )
    .returning(_WINDOWS.id, _WINDOWS.n_uploads, _WINDOWS.kinds)
)
# An upload that added a column (or a dimension) to its window's kinds, under its row lock.
_SET_KINDS = (
    update(cast(Table, ProfileWindow.__table__))
    .where(_WINDOWS.id == bindparam("k_id"))
    .values(kinds=bindparam("new_kinds", type_=_WINDOWS.kinds.type))
)

_ADD_PART = insert(cast(Table, ProfileWindowPart.__table__)).values(
    {c: bindparam(c) for c in ("window_id", "n_rows", "created_at", "profile")}
)


def _new_window(insert: Any) -> Any:
    columns = ["model_id", "version", "segment", "start", "end", "n_rows", "n_uploads"]
    columns += ["first_arrival", "last_arrival", "profile", "kinds"]
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


# The same statements run on SQLite's driver cursor (`vigil.store.hot_sql`): an upload's hot path.
_HOT_COUNT_UPLOAD = Prepared(_COUNT_UPLOAD)
_HOT_ADD_PART = Prepared(_ADD_PART)
_HOT_SET_KINDS = Prepared(_SET_KINDS)
_HOT_NEW_WINDOW = {
    "postgresql": Prepared(_NEW_WINDOW["postgresql"]),
    "sqlite": Prepared(_NEW_WINDOW["sqlite"]),
}
_HOT_CLAIM_BATCH = {
    "postgresql": Prepared(_CLAIM_BATCH["postgresql"]),
    "sqlite": Prepared(_CLAIM_BATCH["sqlite"]),
}


class Counted(NamedTuple):
    """A window counted for uploads: its id, its upload count with them, and the column kinds
    it kept before them (`vigil.store.window_kinds`)."""

    window_id: int
    n_uploads: int
    kinds: str | None


def count_uploads(
    connection: Connection,
    key: Mapping[str, Any],
    *,
    uploads: int,
    n_rows: int,
    end: dt.datetime,
    arrival: dt.datetime,
) -> Counted | None:
    """Count `uploads` uploads of `n_rows` rows in all, arrived at `arrival`, into the window of
    `key` (model_id, version, segment, start), in one UPDATE that takes its row lock; None when
    the window does not exist."""
    counted = {f"k_{name}": value for name, value in key.items()}
    counted |= {"added_rows": n_rows, "added_uploads": uploads, "new_end": end}
    rows = _HOT_COUNT_UPLOAD.run(connection, {**counted, "arrival": arrival})
    if not rows:
        return None
    window_id, n_uploads, stored = rows[0]
    return Counted(int(window_id), int(n_uploads), stored)


class WindowRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        model_id: int,
        version: str,
        start: dt.datetime,
        end: dt.datetime,
        n_rows: int,
        blob: bytes,
        arrival: dt.datetime,
        segment: str = "",
        kinds: str | None = None,
    ) -> Counted:
        """Add one upload's (validated) profile `blob` to its window: its count with this upload
        (1: this upload created it; then its kinds are those of `blob`, `kinds`).

        `segment` is "" for the whole traffic, or `"<column>=<value>"` for one segment's share.

        The first upload creates the window with `blob` as its profile (INSERT ... ON CONFLICT DO
        NOTHING: of two first uploads one creates it); a later one adds to its counters in one
        UPDATE and appends `blob` as a part. Nothing is decoded, merged or re-encoded here:
        readers merge the parts (`load_stored`), `fold_window` folds them in later.
        """
        key = {"model_id": model_id, "version": version, "segment": segment, "start": start}
        # The session's connection runs these statements in its transaction without the ORM's
        # per-statement work (they touch no mapped objects), on SQLite on its driver's cursor.
        connection = self.session.connection()
        for _ in range(2):
            counted = count_uploads(
                connection, key, uploads=1, n_rows=n_rows, end=end, arrival=arrival
            )
            if counted is not None:
                part = {"window_id": counted.window_id, "n_rows": n_rows, "profile": blob}
                _HOT_ADD_PART.run(connection, {**part, "created_at": arrival})
                return counted
            values = {
                **key,
                "end": end,
                "n_rows": n_rows,
                "n_uploads": 1,
                "first_arrival": arrival,
                "last_arrival": arrival,
                "profile": blob,
                "kinds": kinds,
            }
            created = _statement(self.session, _HOT_NEW_WINDOW).run(connection, values)
            if created:
                return Counted(int(created[0][0]), 1, kinds)
        raise RuntimeError(
            f"window {start.isoformat()} of model {model_id} neither found nor created"
        )

    def set_kinds(self, window_id: int, kinds: str) -> None:
        """Store the window's column kinds (in the transaction that appended to it)."""
        _HOT_SET_KINDS.run(self.session.connection(), {"k_id": window_id, "new_kinds": kinds})

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
        `limit`. With `profiles`, each window's complete profile bytes (blob and pending parts,
        read together) are read too, for `StoredProfile.of`; the `profile` column alone is only
        what has been folded so far."""
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
        query = query.options(defer(ProfileWindow.profile))
        windows = self.session.scalars(query.execution_options(populate_existing=True)).all()
        if profiles:
            attach_stored(self.session, windows)
        return windows

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
        # On the session's connection: no ORM work for a Core statement (see `append`).
        statement = _statement(self.session, _HOT_CLAIM_BATCH)
        return bool(statement.run(self.session.connection(), values))

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
