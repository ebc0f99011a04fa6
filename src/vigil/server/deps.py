"""FastAPI dependencies: the settings, the store, a session per request, the caller's token and
scope checks.

`get_settings` is the one place a request gets settings from: the app's `Settings`, built once by
`create_app`. A test overrides it (`app.dependency_overrides[get_settings] = lambda: Settings(...)`)
and every section dependency below, the app's middlewares and its background workers follow.

Every route under /api/v1 (and /metrics) declares a `ScopeRequirement`; the route test walks the
app and checks each one answers 401 without a token and 403 with a smaller scope.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.api.specs import Scope
from vigil.config import DashboardSettings, MonitorSettings, ServerSettings, Settings
from vigil.errors import AuthenticationError, PayloadTooLargeError, PermissionDeniedError
from vigil.server.metrics import Metrics
from vigil.store.core import Store
from vigil.store.repositories import TokenRepository, hash_token, utcnow
from vigil.store.tokens import LAST_USE_RESOLUTION, actor_of, check_not_expired

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer vgl_...`")


async def get_settings(request: Request) -> Settings:
    """The app's settings (the one `Settings` its lifespan started with)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_server_settings(settings: AppSettingsDep) -> ServerSettings:
    return settings.server


async def get_monitor_settings(settings: AppSettingsDep) -> MonitorSettings:
    return settings.monitor


async def get_dashboard_settings(settings: AppSettingsDep) -> DashboardSettings:
    return settings.dashboard


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


ServerSettingsDep = Annotated[ServerSettings, Depends(get_server_settings)]
SettingsDep = ServerSettingsDep  # what the routers take: the server section (limits)
MonitorSettingsDep = Annotated[MonitorSettings, Depends(get_monitor_settings)]
DashboardSettingsDep = Annotated[DashboardSettings, Depends(get_dashboard_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def get_session(request: Request, store: StoreDep) -> AsyncIterator[Session]:
    """A session per request: for GET and HEAD a read session (`Store.read_session`: on SQLite a
    snapshot that never waits for the write lock, and cannot write), else a session that writes.
    Opening one does no I/O (it connects on first use); closing one in a transaction returns the
    connection to the pool, which may block, so that runs in the thread pool (a committed or
    rolled-back session holds no connection any more)."""
    reads = request.method in ("GET", "HEAD")
    session = store.new_read_session() if reads else store.new_session()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()  # nothing to roll back and no connection held: no I/O, no thread hop


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, owner, scope and expiry."""

    token_id: str
    owner: str
    scope: Scope
    expires_at: dt.datetime | None = None

    @property
    def actor(self) -> str:
        """The name recorded for what this caller does: the token's owner, else the token.
        Never a name the request itself carries (an MLflow `user_id`, an `owner` field)."""
        return actor_of(self.owner, self.token_id)


class TokenCache:
    """Recently verified tokens, so a busy client does not cost a store read per request.

    Keyed by the token's hash. A token revoked through this app's API is dropped at once; one
    revoked elsewhere (the CLI, another server process) stops working within `ttl` seconds.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, principal)

    def forget(self, token_id: str) -> None:
        with self._lock:
            for key in [k for k, (_, p) in self._entries.items() if p.token_id == token_id]:
                del self._entries[key]


async def get_token_cache(request: Request) -> TokenCache:
    cache: TokenCache = request.app.state.token_cache
    return cache


TokenCacheDep = Annotated[TokenCache, Depends(get_token_cache)]


def _lookup(store: Store, secret: str, now: dt.datetime) -> Principal | None:
    """The token's principal (expired or not: the caller says which), None when it is unknown
    or revoked. Read in a read session (on SQLite it does not wait behind the writers); its last
    use is stamped in a write of its own when the stamp is a minute old or more."""
    with store.read_session() as session:
        try:
            token = TokenRepository(session).find(secret)
            if token is None or token.revoked_at is not None:
                return None
            principal = Principal(token.id, token.owner, Scope(token.scope), token.expires_at)
            stale = token.last_used_at is None or token.last_used_at <= now - LAST_USE_RESOLUTION
        finally:
            session.rollback()
    if stale and (principal.expires_at is None or principal.expires_at > now):
        _touch(store, principal.token_id, now)
    return principal


def _touch(store: Store, token_id: str, now: dt.datetime) -> None:
    """Record the token's use; failing to (a busy database) never fails the request."""
    with store.session() as session:
        try:
            if TokenRepository(session).touch(token_id, now):
                session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            log.warning("could not record the last use of token %s: %s", token_id, exc)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's principal, from its bearer token (verified tokens are cached).

    Runs on every API request, so it reads the store and the token cache from the app's state
    itself rather than through two more dependencies (each costs the framework a resolution)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "this endpoint needs an API token: send 'Authorization: Bearer <token>' "
            "(create one with `vigil token create --scope read|write|admin`)"
        )
    key = hash_token(credentials.credentials)
    now = utcnow()
    cache: TokenCache = request.app.state.token_cache
    principal = cache.get(key)
    if principal is None:
        store: Store = request.app.state.store
        principal = await run_in_threadpool(_lookup, store, credentials.credentials, now)
        if principal is None:
            raise AuthenticationError("the API token is unknown or revoked")
        cache.put(key, principal)
    check_not_expired(principal.expires_at, now)
    return principal


class ScopeRequirement:
    """A dependency that lets a request through only with a token of `scope` or above."""

    def __init__(self, scope: Scope, *, hint: str = "") -> None:
        self.scope = scope
        self.hint = hint  # said after the refusal, e.g. where to do it instead

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        # `authenticate` called here rather than declared as a sub-dependency: one resolution
        # less for the framework on every API request.
        principal = await authenticate(request, credentials)
        if not principal.scope.allows(self.scope):
            raise PermissionDeniedError(
                f"this endpoint needs a token with scope {self.scope.value!r}; "
                f"the token given has scope {principal.scope.value!r}"
                + (f"; {self.hint}" if self.hint else ""),
                required=self.scope.value,
                given=principal.scope.value,
            )
        return principal


ReadAccess = Annotated[Principal, Depends(ScopeRequirement(Scope.READ))]
WriteAccess = Annotated[Principal, Depends(ScopeRequirement(Scope.WRITE))]
AdminAccess = Annotated[Principal, Depends(ScopeRequirement(Scope.ADMIN))]


async def read_body(request: Request, settings: ServerSettings) -> bytes:
    """The request body, at most `settings.max_request_bytes` (the size limit middleware has
    already capped it while it streamed in; this refuses a body that got past it anyway)."""
    body = await request.body()
    if len(body) > settings.max_request_bytes:
        raise PayloadTooLargeError(
            f"the request body is {len(body)} bytes; the limit is {settings.max_request_bytes}"
        )
    return body


async def raw_body(request: Request, settings: SettingsDep) -> bytes:
    """The request body (see `read_body`)."""
    return await read_body(request, settings)


BodyDep = Annotated[bytes, Depends(raw_body)]
