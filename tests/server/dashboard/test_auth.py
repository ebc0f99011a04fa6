"""Signing in: nothing is readable without a session, cookies are http-only and SameSite, every
state-changing form needs the session's CSRF value, and scopes still apply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.dashboard.conftest import Demo, csrf_of, page_urls, sign_in
from vigil.api.specs import Scope

# Every state-changing route of the dashboard (a test below checks that this list is complete).
POSTS = [
    "/ui/logout",
    "/ui/alerts/1/ack",
    "/ui/alerts/1/resolve",
    "/ui/registry/churn/aliases",
    "/ui/settings/tokens",
    "/ui/settings/tokens/abc/revoke",
]


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        elif hasattr(route, "methods"):
            yield route


def test_the_list_of_state_changing_routes_is_complete(web: TestClient) -> None:
    templates = {
        route.path
        for route in _routes(web.app.routes)  # type: ignore[attr-defined]
        if route.path.startswith("/ui") and "POST" in route.methods
    }
    assert templates == {
        "/ui/login",
        "/ui/logout",
        "/ui/alerts/{alert_id}/{action}",
        "/ui/registry/{name}/aliases",
        "/ui/settings/tokens",
        "/ui/settings/tokens/{token_id}/revoke",
    }


def test_every_page_redirects_to_sign_in_without_a_session(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    urls = page_urls(web)
    web.cookies.clear()
    for url in [
        *urls,
        "/ui/models/churn/cell?feature=age&start=2026-11-08T00:00:00Z",
        "/ui/models/churn/heatmap",
        "/ui/runs/x/metrics",
    ]:
        response = web.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/ui/login?next=%2Fui%2F"), url
        assert "churn" not in response.text
    # The page's own background requests get 401 (the script then reloads to the sign-in page).
    response = web.get("/ui/models/churn/heatmap", headers={"X-Requested-With": "vigil"})
    assert response.status_code == 401


def test_a_forged_or_stale_session_cookie_reads_nothing(web: TestClient) -> None:
    web.cookies.set("vigil_session", "not-a-session")
    response = web.get("/ui/", follow_redirects=False)
    assert response.status_code == 303


def test_sign_in_sets_an_http_only_same_site_cookie(web: TestClient, demo: Demo) -> None:
    form = web.get("/ui/login")
    assert form.status_code == 200
    response = web.post(
        "/ui/login",
        data={"csrf": csrf_of(form.text), "token": demo.tokens[Scope.READ], "next": "/ui/alerts"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/alerts"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("vigil_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert demo.tokens[Scope.READ] not in cookie  # the cookie is a session id, not the token
    page = web.get("/ui/")
    assert page.status_code == 200
    assert "churn" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_token_or_a_forged_sign_in_form_is_refused(web: TestClient) -> None:
    form = web.get("/ui/login")
    response = web.post(
        "/ui/login", data={"csrf": csrf_of(form.text), "token": "vgl_wrong"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert "unknown or revoked" in response.text
    web.cookies.clear()  # no sign-in form cookie: a cross-site form post
    response = web.post("/ui/login", data={"csrf": "x", "token": "vgl_wrong"})
    assert response.status_code == 403


def test_sign_in_never_redirects_off_the_dashboard(web: TestClient, demo: Demo) -> None:
    for target in ("https://evil.example/", "//evil.example/ui/", "/api/v1/models"):
        form = web.get("/ui/login")
        response = web.post(
            "/ui/login",
            data={"csrf": csrf_of(form.text), "token": demo.tokens[Scope.READ], "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/ui/", target


@pytest.mark.parametrize("url", POSTS)
def test_state_changing_forms_need_the_sessions_csrf_value(
    web: TestClient, demo: Demo, url: str
) -> None:
    csrf = sign_in(web, demo.tokens[Scope.ADMIN])
    for data in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
        response = web.post(url, data={**data, "alias": "production", "version": "1"})
        assert response.status_code == 403, (url, data)
        assert "CSRF" in response.text
    assert web.get("/ui/", follow_redirects=False).status_code == 200  # still signed in


def test_a_read_token_cannot_change_anything(web: TestClient, demo: Demo) -> None:
    csrf = sign_in(web, demo.tokens[Scope.READ])
    response = web.post(
        "/ui/registry/churn/aliases", data={"csrf": csrf, "alias": "x", "version": "1"}
    )
    assert response.status_code == 403
    assert "needs a token with scope" in response.text
    response = web.post("/ui/settings/tokens", data={"csrf": csrf, "scope": "admin"})
    assert response.status_code == 403
    assert "API tokens" in web.get("/ui/settings").text
    assert "managed with an admin token" in web.get("/ui/settings").text


def test_signing_out_ends_the_session(web: TestClient, demo: Demo) -> None:
    csrf = sign_in(web, demo.tokens[Scope.READ])
    stolen = web.cookies.get("vigil_session")
    response = web.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    web.cookies.clear()
    web.cookies.set("vigil_session", stolen or "")
    assert web.get("/ui/", follow_redirects=False).status_code == 303


def test_revoking_the_token_ends_its_sessions(web: TestClient, demo: Demo) -> None:
    admin = TestClient(web.app)
    admin_csrf = sign_in(admin, demo.tokens[Scope.ADMIN])
    created = admin.post(
        "/ui/settings/tokens", data={"csrf": admin_csrf, "scope": "read", "name": "temp"}
    )
    assert created.status_code == 200
    import re

    secret = re.search(r"<code>(vgl_[^<]+)</code>", created.text)
    token_id = re.search(r"Token ([0-9a-f]+) created", created.text)
    assert secret
    assert token_id
    sign_in(web, secret.group(1))
    assert web.get("/ui/", follow_redirects=False).status_code == 200
    revoked = admin.post(
        f"/ui/settings/tokens/{token_id.group(1)}/revoke",
        data={"csrf": admin_csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert web.get("/ui/", follow_redirects=False).status_code == 303
