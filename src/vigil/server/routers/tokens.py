"""API tokens (admin): create, list, rotate, revoke, through the token service the dashboard
uses too (`vigil.access.tokens`). Secrets appear only in the answer that creates them; lists show
expiry and last use, never a secret or its hash."""

from __future__ import annotations

from fastapi import APIRouter, status

from vigil.access import tokens
from vigil.api.specs import NewToken, TokenIn, TokenOut, TokenRotateIn
from vigil.ranges import parse_duration
from vigil.server.deps import AdminAccess, SessionDep, TokenCacheDep
from vigil.store.repositories import TokenRepository

router = APIRouter(tags=["tokens"])


@router.post("/api/v1/tokens", status_code=status.HTTP_201_CREATED)
def create_token(admin: AdminAccess, spec: TokenIn, session: SessionDep) -> NewToken:
    """Create a token (expiring after `expires_in` when given); its secret is in this response
    only. `owner` names who will hold it (default: the admin): their changes are recorded under
    that name."""
    return tokens.create_token(
        session,
        spec.scope,
        name=spec.name,
        owner=spec.owner or admin.owner,
        expires_in=parse_duration(spec.expires_in, name="expires_in") if spec.expires_in else None,
    )


@router.get("/api/v1/tokens")
def list_tokens(_: AdminAccess, session: SessionDep) -> list[TokenOut]:
    try:
        return tokens.list_tokens(session)
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
    out = NewToken(**tokens.token_out(new).model_dump(), token=secret)
    session.commit()
    cache.forget(old.id)
    return out


@router.delete("/api/v1/tokens/{token_id}")
def revoke_token(
    _: AdminAccess, token_id: str, session: SessionDep, cache: TokenCacheDep
) -> TokenOut:
    out = tokens.revoke_token(session, token_id)
    cache.forget(token_id)
    return out
