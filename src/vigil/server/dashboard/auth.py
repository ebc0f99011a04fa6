"""Signing in to the dashboard: an API token buys a server-side session (`vigil.access.sessions`)
kept in an http-only, SameSite=Strict cookie; every state-changing form echoes the session's
CSRF secret."""

from __future__ import annotations

import hmac
import secrets

from vigil.access.sessions import SESSION_HOURS, Viewer, sign_in, sign_out, viewer_of

COOKIE = "vigil_session"
LOGIN_COOKIE = "vigil_login"
"""A pre-session CSRF secret for the sign-in form (double submit)."""


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF value with the session's."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def new_login_secret() -> str:
    return secrets.token_urlsafe(24)


__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "SESSION_HOURS",
    "Viewer",
    "csrf_matches",
    "new_login_secret",
    "sign_in",
    "sign_out",
    "viewer_of",
]
