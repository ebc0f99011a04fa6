"""API tokens (admin): create, list, rotate, revoke. Secrets appear only in the answer that
creates them; lists show expiry and last use, never a secret or its hash."""

from __future__ import annotations

from fastapi import APIRouter, status

from vigil.api.specs import NewToken, Scope, TokenIn, TokenOut, TokenRotateIn
from vigil.ranges import parse_duration
from vigil.server.deps import AdminAccess, SessionDep, TokenCacheDep
from vigil.store.models import ApiToken
from vigil.store.repositories import TokenRepository

router = APIRouter(tags=["tokens"])


def _out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        owner=token.owner,
        scope=Scope(token.scope),
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


@router.post("/api/v1/tokens", status_code=status.HTTP_201_CREATED)
def create_token(admin: AdminAccess, spec: TokenIn, session: SessionDep) -> NewToken:
    """Create a token (expiring after `expires_in` when given); its secret is in this response
    only. `owner` names who will hold it (default: the admin): their changes are recorded under
    that name."""
    owner = spec.owner or admin.owner
    expires_in = parse_duration(spec.expires_in, name="expires_in") if spec.expires_in else None
    token, secret = TokenRepository(session).create(
        spec.scope, name=spec.name, owner=owner, expires_in=expires_in
    )
    out = NewToken(**_out(token).model_dump(), token=secret)
    session.commit()
    return out


@router.get("/api/v1/tokens")
def list_tokens(_: AdminAccess, session: SessionDep) -> list[TokenOut]:
    try:
        return [_out(t) for t in TokenRepository(session).list()]
    finally:
        session.rollback()


@router.post("/api/v1/tokens/{token_id}/rotate", status_code=status.HTTP_201_CREATED)
def rotate_token(
    _: AdminAccess,
    token_id: str,
    spec: TokenRotateIn,
    session: SessionDep,
    cache: TokenCacheDep,
) -> NewToken:
    """A new token with the old one's name, owner and scope; the old one is revoked now, or
    expires after `grace` so that its holders can switch over."""
    old, new, secret = TokenRepository(session).rotate(
        token_id,
        expires_in=parse_duration(spec.expires_in, name="expires_in") if spec.expires_in else None,
        grace=parse_duration(spec.grace, name="grace") if spec.grace else None,
    )
    out = NewToken(**_out(new).model_dump(), token=secret)
    session.commit()
    cache.forget(old.id)
    return out


@router.delete("/api/v1/tokens/{token_id}")
def revoke_token(
    _: AdminAccess, token_id: str, session: SessionDep, cache: TokenCacheDep
) -> TokenOut:
    out = _out(TokenRepository(session).revoke(token_id))
    session.commit()
    cache.forget(token_id)
    return out
