"""Every route needs a token of the right scope; only /health is open."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.server.conftest import auth
from vigil.server import ServerSettings, create_app
from vigil.server.app import ROUTERS
from vigil.server.deps import ScopeRequirement
from vigil.store.specs import Scope

OPEN_ROUTES = {"/health"}


def _required_scope(route: APIRoute) -> Scope | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, ScopeRequirement):
            return dependant.call.scope
        stack.extend(dependant.dependencies)
    return None


def _routes() -> list[tuple[str, str, Scope | None]]:
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute), f"unexpected route type {route!r}"
            for method in sorted(route.methods):
                found.append((method, route.path, _required_scope(route)))
    return found


ROUTES = _routes()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_the_route_list_covers_the_api() -> None:
    """The routers walked here are all the app serves: compare with its OpenAPI document."""
    app = create_app(ServerSettings(store_url="sqlite://", artifacts_url="unused"))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    # OpenAPI writes `{key:path}` (a converter) as `{key}`.
    walked = {(method, re.sub(r":\w+\}", "}", path)) for method, path, _ in ROUTES}
    assert walked - documented == {("GET", "/openapi.json")}
    assert documented <= walked
    assert {
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("POST", "/api/v1/models/{name}/log"),
    } <= walked


@pytest.mark.parametrize(
    ("method", "path", "scope"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_every_route_but_health_needs_a_token_of_its_scope(
    api: TestClient, tokens: dict[Scope, str], method: str, path: str, scope: Scope | None
) -> None:
    url = _concrete(path)
    if path in OPEN_ROUTES:
        assert scope is None
        assert api.request(method, url).status_code == 200
        return
    assert scope is not None, f"{method} {path} declares no ScopeRequirement"
    for headers in ({}, auth("vgl_not-a-real-token"), {"Authorization": "Basic dXNlcjpwdw=="}):
        response = api.request(method, url, headers=headers)
        assert response.status_code == 401, (method, path, headers, response.text)
        assert response.json()["error"] == "unauthenticated"
    for smaller in [s for s in Scope if s.rank < scope.rank]:
        response = api.request(method, url, headers=auth(tokens[smaller]))
        assert response.status_code == 403, (method, path, smaller, response.text)
        body = response.json()
        assert body["error"] == "forbidden"
        assert scope.value in body["message"]
    response = api.request(method, url, headers=auth(tokens[scope]))
    assert response.status_code not in (401, 403), (method, path, response.text)


def test_a_revoked_token_stops_working(api: TestClient, tokens: dict[Scope, str]) -> None:
    admin = auth(tokens[Scope.ADMIN])
    created = api.post("/api/v1/tokens", json={"scope": "read", "name": "ci"}, headers=admin)
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["id"]
    assert api.get("/api/v1/models", headers=auth(secret)).status_code == 200
    listed = api.get("/api/v1/tokens", headers=admin).json()
    assert token_id in [t["id"] for t in listed]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert api.delete(f"/api/v1/tokens/{token_id}", headers=admin).json()["revoked_at"]
    assert api.get("/api/v1/models", headers=auth(secret)).status_code == 401


def test_tokens_are_stored_hashed(
    api: TestClient, server_store: object, tokens: dict[Scope, str]
) -> None:
    from vigil.store.core import Store
    from vigil.store.models import ApiToken

    assert isinstance(server_store, Store)
    with server_store.session() as session:
        stored = [t.token_hash for t in session.query(ApiToken).all()]
    assert len(stored) == 3
    for secret in tokens.values():
        assert secret not in stored
        assert all(secret not in h for h in stored)


def test_a_token_revoked_outside_the_server_stops_working_after_the_cache_time(
    server_store: object, tokens: dict[Scope, str]
) -> None:
    from vigil.store.core import Store
    from vigil.store.models import ApiToken
    from vigil.store.repositories import TokenRepository, hash_token

    assert isinstance(server_store, Store)
    secret = tokens[Scope.READ]
    for ttl, still_works in ((0.0, False), (60.0, True)):
        settings = ServerSettings(store_url="x", artifacts_url="y", token_cache_seconds=ttl)
        with TestClient(create_app(settings, store=server_store)) as api:
            with server_store.session() as session:  # un-revoke, then use the token once
                row = session.query(ApiToken).filter_by(token_hash=hash_token(secret)).one()
                row.revoked_at = None
                session.commit()
            assert api.get("/api/v1/models", headers=auth(secret)).status_code == 200
            with server_store.session() as session:  # revoke as `vigil token revoke` does
                TokenRepository(session).revoke(row.id)
                session.commit()
            status = api.get("/api/v1/models", headers=auth(secret)).status_code
            assert status == (200 if still_works else 401), ttl
