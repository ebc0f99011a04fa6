"""FastAPI dependencies: the store, a session per request, the caller's token and scope checks.

Every route under /api/v1 (and /metrics) declares a `ScopeRequirement`; the route test walks the
app and checks each one answers 401 without a token and 403 with a smaller scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from vigil.errors import AuthenticationError, PayloadTooLargeError, PermissionDeniedError
from vigil.server.metrics import Metrics
from vigil.server.settings import ServerSettings
from vigil.store.core import Store
from vigil.store.repositories import TokenRepository
from vigil.store.specs import Scope

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer vgl_...`")


def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def get_session(store: StoreDep) -> Iterator[Session]:
    with store.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, owner and scope."""

    token_id: str
    owner: str
    scope: Scope


def authenticate(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "this endpoint needs an API token: send 'Authorization: Bearer <token>' "
            "(create one with `vigil token create --scope read|write|admin`)"
        )
    try:
        token = TokenRepository(session).authenticate(credentials.credentials)
    finally:
        session.rollback()  # end the read; on SQLite it holds the write lock
    if token is None:
        raise AuthenticationError("the API token is unknown or revoked")
    return Principal(token.id, token.owner, Scope(token.scope))


class ScopeRequirement:
    """A dependency that lets a request through only with a token of `scope` or above."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.scope.allows(self.scope):
            raise PermissionDeniedError(
                f"this endpoint needs a token with scope {self.scope.value!r}; "
                f"the token given has scope {principal.scope.value!r}",
                required=self.scope.value,
                given=principal.scope.value,
            )
        return principal


ReadAccess = Annotated[Principal, Depends(ScopeRequirement(Scope.READ))]
WriteAccess = Annotated[Principal, Depends(ScopeRequirement(Scope.WRITE))]
AdminAccess = Annotated[Principal, Depends(ScopeRequirement(Scope.ADMIN))]


async def raw_body(request: Request, settings: SettingsDep) -> bytes:
    """The request body (the size limit middleware has already capped it)."""
    body = await request.body()
    if len(body) > settings.max_request_bytes:
        raise PayloadTooLargeError(
            f"the request body is {len(body)} bytes; the limit is {settings.max_request_bytes}"
        )
    return body


BodyDep = Annotated[bytes, Depends(raw_body)]
