"""Typed access to the store's tables. Each repository takes a Session; callers own the transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from vigil.api.specs import ModelSpec, Scope
from vigil.errors import ConflictError, NotFoundError
from vigil.store.models import ApiToken, IngestedBatch, Kpi, MonitoredModel, ProfileWindow
from vigil.store.tokens import LAST_USE_RESOLUTION, is_live

TOKEN_PREFIX = "vgl_"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _insert(session: Session, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT DO NOTHING on this session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


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
        statement = _insert(self.session, MonitoredModel.__table__).values(**values)
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
        registry_model=model.registry_model,
    )


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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        scope: Scope,
        *,
        name: str = "",
        owner: str = "",
        expires_in: dt.timedelta | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token (expiring `expires_in` from now when given); returns the row and the
        secret (which only exists here)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = now or utcnow()
        token = ApiToken(
            id=secrets.token_hex(8),
            name=name,
            owner=owner,
            scope=scope.value,
            token_hash=hash_token(secret),
            created_at=created,
            expires_at=created + expires_in if expires_in is not None else None,
        )
        self.session.add(token)
        self.session.flush()
        return token, secret

    def find(self, secret: str) -> ApiToken | None:
        """The token whose secret this is, live or not."""
        return self.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
        ).one_or_none()

    def authenticate(self, secret: str, now: dt.datetime | None = None) -> ApiToken | None:
        """The live (neither revoked nor expired) token whose secret this is, or None."""
        token = self.find(secret)
        if token is None or not is_live(token.revoked_at, token.expires_at, now or utcnow()):
            return None
        return token

    def touch(self, token_id: str, now: dt.datetime) -> bool:
        """Stamp the token's last use, unless it was stamped less than `LAST_USE_RESOLUTION`
        ago (one conditional UPDATE, so concurrent processes write it once); True if written."""
        result = self.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                ApiToken.last_used_at.is_(None)
                | (ApiToken.last_used_at <= now - LAST_USE_RESOLUTION),
            )
            .values(last_used_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    def list(self) -> Sequence[ApiToken]:
        return self.session.scalars(select(ApiToken).order_by(ApiToken.created_at)).all()

    def count_admins(self, now: dt.datetime | None = None) -> int:
        """Live admin tokens."""
        live = ApiToken.expires_at.is_(None) | (ApiToken.expires_at > (now or utcnow()))
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ApiToken)
                .where(ApiToken.scope == Scope.ADMIN.value, ApiToken.revoked_at.is_(None), live)
            )
            or 0
        )

    def get(self, token_id: str) -> ApiToken:
        token = self.session.get(ApiToken, token_id)
        if token is None:
            raise NotFoundError(f"no API token with id {token_id!r}", token_id=token_id)
        return token

    def resolve(self, id_or_name: str) -> ApiToken:
        """The token with this id, else the one live token with this name."""
        token = self.session.get(ApiToken, id_or_name)
        if token is not None:
            return token
        named = [
            t
            for t in self.session.scalars(select(ApiToken).where(ApiToken.name == id_or_name))
            if is_live(t.revoked_at, t.expires_at, utcnow())
        ]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(sorted(t.id for t in named))
            raise ConflictError(
                f"{len(named)} live tokens are named {id_or_name!r} ({ids}); give the id",
                name=id_or_name,
            )
        raise NotFoundError(
            f"no API token with id {id_or_name!r} and no live token with that name",
            token_id=id_or_name,
        )

    def revoke(self, token_id: str) -> ApiToken:
        token = self.get(token_id)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        return token

    def rotate(
        self,
        token_id: str,
        *,
        expires_in: dt.timedelta | None = None,
        grace: dt.timedelta | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[ApiToken, ApiToken, str]:
        """Replace a live token by a new one with the same name, owner and scope.

        The new token lives `expires_in`, else as long as the old one was meant to (no expiry if
        it had none). The old one is revoked now, or expires after `grace` (so that deployments
        can switch over). Returns the old row, the new row and the new secret.
        """
        at = now or utcnow()
        old = self.get(token_id)
        if not is_live(old.revoked_at, old.expires_at, at):
            raise ConflictError(
                f"the API token {token_id!r} is revoked or expired; create a new one with "
                "`vigil token create`",
                token_id=token_id,
            )
        if expires_in is None and old.expires_at is not None:
            expires_in = old.expires_at - old.created_at
        new, secret = self.create(
            Scope(old.scope), name=old.name, owner=old.owner, expires_in=expires_in, now=at
        )
        if grace is None:
            old.revoked_at = at
        elif old.expires_at is None or old.expires_at > at + grace:
            old.expires_at = at + grace
        self.session.flush()
        return old, new, secret


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
