from __future__ import annotations

from fastapi import APIRouter, status

from vigil.server.deps import AdminAccess, SessionDep, TokenCacheDep
from vigil.store.models import ApiToken
from vigil.store.repositories import TokenRepository
from vigil.store.specs import NewToken, Scope, TokenIn, TokenOut

router = APIRouter(tags=["tokens"])


def _out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        owner=token.owner,
        scope=Scope(token.scope),
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    )


@router.post("/api/v1/tokens", status_code=status.HTTP_201_CREATED)
def create_token(admin: AdminAccess, spec: TokenIn, session: SessionDep) -> NewToken:
    """Create a token; its secret is in this response only."""
    owner = spec.owner or admin.owner
    token, secret = TokenRepository(session).create(spec.scope, name=spec.name, owner=owner)
    out = NewToken(**_out(token).model_dump(), token=secret)
    session.commit()
    return out


@router.get("/api/v1/tokens")
def list_tokens(_: AdminAccess, session: SessionDep) -> list[TokenOut]:
    try:
        return [_out(t) for t in TokenRepository(session).list()]
    finally:
        session.rollback()


@router.delete("/api/v1/tokens/{token_id}")
def revoke_token(
    _: AdminAccess, token_id: str, session: SessionDep, cache: TokenCacheDep
) -> TokenOut:
    out = _out(TokenRepository(session).revoke(token_id))
    session.commit()
    cache.forget(token_id)
    return out
