"""The dashboard's signed-in sessions: an API token buys a server-side session; its cookie is a
random secret of which only the SHA-256 is stored, so a copy of the database does not sign
anyone in. A session ends when it expires, when its user signs out, or when its API token is
revoked or expires."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.api.specs import Scope
from vigil.store.dashboard_tables import WebSession
from vigil.store.models import ApiToken
from vigil.store.repositories import TokenRepository, utcnow
from vigil.store.tokens import actor_of, is_live

SESSION_HOURS = 12


@dataclass(frozen=True)
class Viewer:
    """Who is signed in: their token's id, owner and scope, and the CSRF secret their forms
    carry."""

    token_id: str
    owner: str
    scope: Scope
    csrf: str

    @property
    def actor(self) -> str:
        """The name recorded when this viewer changes something (as the API does)."""
        return actor_of(self.owner, self.token_id)

    def can(self, scope: Scope) -> bool:
        return self.scope.allows(scope)


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def sign_in(session: Session, secret: str, *, now: dt.datetime | None = None) -> str | None:
    """A new session's cookie value for the API token `secret`, or None when the token is
    unknown, revoked or expired (committed)."""
    now = now or utcnow()
    token = TokenRepository(session).authenticate(secret.strip(), now)
    if token is None:
        return None
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=_hash(cookie),
            token_id=token.id,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + dt.timedelta(hours=SESSION_HOURS),
        )
    )
    # Expired sessions are dropped as new ones start, so the table does not grow forever.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.commit()
    return cookie


def viewer_of(
    session: Session, cookie: str | None, *, now: dt.datetime | None = None
) -> Viewer | None:
    """The viewer of a live session cookie (its token neither revoked nor expired), else None."""
    if not cookie:
        return None
    row = session.execute(
        select(WebSession, ApiToken)
        .join(ApiToken, ApiToken.id == WebSession.token_id)
        .where(WebSession.id_hash == _hash(cookie))
    ).one_or_none()
    if row is None:
        return None
    web, token = row
    now = now or utcnow()
    if not is_live(token.revoked_at, token.expires_at, now) or web.expires_at <= now:
        return None
    return Viewer(token.id, token.owner, Scope(token.scope), web.csrf)


def sign_out(session: Session, cookie: str | None) -> None:
    """End the session of `cookie` (committed)."""
    if cookie:
        session.execute(delete(WebSession).where(WebSession.id_hash == _hash(cookie)))
        session.commit()
