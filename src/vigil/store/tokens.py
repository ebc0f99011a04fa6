"""API tokens: their rows (`TokenRepository`: create, authenticate, rotate, revoke), their
lifetimes (expiry), and how often the last use is stamped.

A token may carry an `expires_at`; from then on it authenticates nothing (a 401 naming the
expiry). `last_used_at` is written at most once per `LAST_USE_RESOLUTION` per token, so a busy
client does not cost a write per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigil.api.specs import Scope
from vigil.errors import AuthenticationError, ConflictError, NotFoundError
from vigil.store.models import ApiToken
from vigil.store.sql import utcnow

TOKEN_PREFIX = "vgl_"

LAST_USE_RESOLUTION = dt.timedelta(minutes=1)
"""`last_used_at` is accurate to this: a use within this time of the stamp does not move it."""


def actor_of(owner: str, token_id: str) -> str:
    """The name recorded for what a token's holder does: its owner, else `token:<id>`."""
    return owner or f"token:{token_id}"


def check_not_expired(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    """Raise the 401 of an expired token, naming when it expired."""
    if expires_at is not None and expires_at <= now:
        raise AuthenticationError(
            f"the API token expired at {expires_at.isoformat()}; ask an admin for a new one "
            "(`vigil token rotate` or `vigil token create`)",
            expired_at=expires_at.isoformat(),
        )


def is_live(
    revoked_at: dt.datetime | None, expires_at: dt.datetime | None, now: dt.datetime
) -> bool:
    """Whether a token with these times authenticates requests at `now`."""
    return revoked_at is None and (expires_at is None or expires_at > now)


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
