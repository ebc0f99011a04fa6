"""`Store`: an opened metadata database plus its artifact store, shared by the server and the
client's local mode."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from vigil.api.specs import Scope
from vigil.store.artifacts import ArtifactStore, open_artifact_store
from vigil.store.db import (
    READERS_KEY,
    create_store_engine,
    has_read_engine,
    read_engine_for,
    session_factory,
    upgrade,
)
from vigil.store.predictions import PredictionStore
from vigil.store.profile_windows import BatchRepository
from vigil.store.repositories import ModelCache
from vigil.store.stored_profiles import SESSION_KEY, UndecodableWindows
from vigil.store.tokens import TokenRepository
from vigil.store.window_kinds import KINDS_KEY, WindowKinds


class Store:
    """The metadata database (`engine`), the artifact store and the prediction files."""

    def __init__(self, engine: Engine, artifacts: ArtifactStore) -> None:
        self.engine = engine
        self.artifacts = artifacts
        self.undecodable = UndecodableWindows()
        """Stored windows that failed to decode since the store was opened (see stored_profiles)."""
        self.window_kinds = WindowKinds()
        """The column kinds of recently written windows (ingestion checks uploads against them)."""
        self.read_engine = read_engine_for(engine)
        """The engine of `read_session` (`vigil.store.db.read_engine_for`)."""
        self._readers: sessionmaker[Session] = session_factory(self.read_engine)
        self._sessions: sessionmaker[Session] = session_factory(engine)
        info = {SESSION_KEY: self.undecodable, KINDS_KEY: self.window_kinds}
        self._sessions.configure(info={**info, READERS_KEY: self._readers})
        self._readers.configure(info=info)
        self.predictions = PredictionStore(artifacts, self._claimed)
        self.models = ModelCache()

    @classmethod
    def open(
        cls,
        store_url: str,
        artifacts_url: str,
        *,
        s3_endpoint_url: str | None = None,
        migrate: bool = True,
    ) -> Store:
        """Connect to the store at `store_url`, bringing its schema up to date when `migrate`."""
        engine = create_store_engine(store_url)
        if migrate:
            upgrade(engine)
        return cls(engine, open_artifact_store(artifacts_url, s3_endpoint_url=s3_endpoint_url))

    def new_session(self) -> Session:
        """A session the caller closes."""
        return self._sessions()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session; whatever it did not commit is rolled back when the block ends."""
        with self._sessions() as session:
            yield session

    def new_read_session(self) -> Session:
        """A `read_session` the caller closes."""
        return self._readers()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: any write in it fails (SQLite: "attempt to write a
        readonly database"; PostgreSQL: a read-only transaction). On a SQLite file each of its
        transactions reads a snapshot of the last commit without the write lock, so it never
        waits for a writer (the group writer, the compactor, a monitor tick) nor holds one up;
        PostgreSQL's reads never wait for writers anyway. An in-memory SQLite store has one
        connection for all its sessions: there it is a plain session."""
        with self._readers() as session:
            yield session

    def create_token(self, scope: Scope, *, name: str = "", owner: str = "") -> str:
        """A new API token's secret (only its hash is stored)."""
        with self.session() as session:
            _, secret = TokenRepository(session).create(scope, name=name, owner=owner)
            session.commit()
        return secret

    def _claimed(self, batch_ids: Sequence[str]) -> set[str]:
        with self._readers() as session:
            try:
                return BatchRepository(session).claimed(batch_ids)
            finally:
                session.rollback()

    def close(self) -> None:
        self.engine.dispose()
        if has_read_engine(self.engine.url):
            self.read_engine.dispose()
