"""API tokens as the API and the dashboard show and change them: a secret appears only in the
answer that creates it; lists show expiry and last use, never a secret or its hash."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from vigil.api.specs import NewToken, Scope, TokenOut
from vigil.store.models import ApiToken
from vigil.store.repositories import TokenRepository


def token_out(token: ApiToken) -> TokenOut:
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


def create_token(
    session: Session,
    scope: Scope,
    *,
    name: str = "",
    owner: str = "",
    expires_in: dt.timedelta | None = None,
) -> NewToken:
    """A new token and its secret (committed)."""
    token, secret = TokenRepository(session).create(
        scope, name=name, owner=owner, expires_in=expires_in
    )
    out = NewToken(**token_out(token).model_dump(), token=secret)
    session.commit()
    return out


def list_tokens(session: Session) -> list[TokenOut]:
    """Every token, oldest first."""
    return [token_out(t) for t in TokenRepository(session).list()]


def revoke_token(session: Session, token_id: str) -> TokenOut:
    """Revoke a token now (committed; revoking a revoked token changes nothing)."""
    out = token_out(TokenRepository(session).revoke(token_id))
    session.commit()
    return out
