"""Every route needs a token of the right scope; only /health is open."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.server.conftest import SharedApi, auth
from vigil.api.specs import Scope
from vigil.server import Settings, create_app
from vigil.server.app import ROUTERS
from vigil.server.deps import ScopeRequirement

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
    app = create_app(Settings(store_url="sqlite://", artifacts_url="unused"))
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
    shared_api: SharedApi, method: str, path: str, scope: Scope | None
) -> None:
    """One app per backend serves every route's case: a request here changes no other case's
    answer (a 401 or 403 writes nothing, and the last request's answer is only checked not to be
    either)."""
    api, tokens = shared_api.client, shared_api.tokens
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
        settings = Settings(store_url="x", artifacts_url="y", token_cache_seconds=ttl)
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


def test_an_expired_token_is_refused_naming_its_expiry(
    api: TestClient, server_store: object, tokens: dict[Scope, str]
) -> None:
    import datetime as dt

    from vigil.server.deps import Principal
    from vigil.store.core import Store
    from vigil.store.repositories import TokenRepository, hash_token

    assert isinstance(server_store, Store)
    admin = auth(tokens[Scope.ADMIN])
    created = api.post("/api/v1/tokens", json={"scope": "read", "expires_in": "90d"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires - dt.datetime.fromisoformat(body["created_at"]) == dt.timedelta(days=90)
    assert api.get("/api/v1/models", headers=auth(body["token"])).status_code == 200

    bad = api.post("/api/v1/tokens", json={"scope": "read", "expires_in": "90x"}, headers=admin)
    assert bad.status_code == 422
    assert "expires_in" in bad.text
    assert "'90x'" in bad.text

    # A token that expired yesterday (created two days ago for one day): a 401 saying when.
    with server_store.session() as session:
        yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        token, secret = TokenRepository(session).create(
            Scope.READ, expires_in=dt.timedelta(days=1), now=yesterday - dt.timedelta(days=1)
        )
        session.commit()
        expired_at = token.expires_at
    assert expired_at is not None
    refused = api.get("/api/v1/models", headers=auth(secret))
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthenticated"
    assert f"expired at {expired_at.isoformat()}" in refused.json()["message"]
    assert refused.json()["details"]["expired_at"] == expired_at.isoformat()

    # A verified token that expires while it sits in the cache is refused too.
    live = body["token"]
    cache = api.app.state.token_cache  # type: ignore[attr-defined]
    cached = cache.get(hash_token(live))
    assert cached is not None
    cache.put(hash_token(live), Principal(cached.token_id, cached.owner, cached.scope, yesterday))
    assert api.get("/api/v1/models", headers=auth(live)).status_code == 401


def test_tokens_show_their_last_use_written_at_most_once_a_minute(
    server_store: object, tokens: dict[Scope, str]
) -> None:
    import datetime as dt

    from sqlalchemy import event

    from vigil.store.core import Store
    from vigil.store.models import ApiToken
    from vigil.store.repositories import hash_token

    assert isinstance(server_store, Store)
    secret = tokens[Scope.READ]

    def stamp(value: dt.datetime | None = None) -> dt.datetime | None:
        with server_store.session() as session:
            row = session.query(ApiToken).filter_by(token_hash=hash_token(secret)).one()
            if value is not None:
                row.last_used_at = value
                session.commit()
            return row.last_used_at

    writes: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    settings = Settings(store_url="x", artifacts_url="y", token_cache_seconds=0)
    event.listen(server_store.engine, "before_cursor_execute", count)
    try:
        with TestClient(create_app(settings, store=server_store)) as api:
            assert stamp() is None
            before = dt.datetime.now(dt.UTC)
            assert api.get("/api/v1/models", headers=auth(secret)).status_code == 200
            first = stamp()
            assert first is not None
            assert first >= before
            listed = api.get("/api/v1/tokens", headers=auth(tokens[Scope.ADMIN])).json()
            shown = {t["id"]: t["last_used_at"] for t in listed}
            assert dt.datetime.fromisoformat(shown[_token_id(server_store, secret)]) == first

            # Stamped "in the future": no request moves it back, however many, and none writes.
            ahead = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            stamp(ahead)
            writes.clear()
            for _ in range(20):
                assert api.get("/api/v1/models", headers=auth(secret)).status_code == 200
            assert stamp() == ahead
            assert writes == []

            # Stamped more than a minute ago: the next request writes it once.
            stamp(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
            writes.clear()
            before = dt.datetime.now(dt.UTC)
            assert api.get("/api/v1/models", headers=auth(secret)).status_code == 200
            moved = stamp()
            assert moved is not None
            assert moved >= before
            assert len(writes) == 1
    finally:
        event.remove(server_store.engine, "before_cursor_execute", count)


def _token_id(store: object, secret: str) -> str:
    from vigil.store.core import Store
    from vigil.store.repositories import TokenRepository

    assert isinstance(store, Store)
    with store.session() as session:
        token = TokenRepository(session).find(secret)
        assert token is not None
        return token.id


def test_rotating_a_token_through_the_api(api: TestClient, tokens: dict[Scope, str]) -> None:
    admin = auth(tokens[Scope.ADMIN])
    made = api.post(
        "/api/v1/tokens", json={"scope": "write", "name": "ci", "owner": "alice"}, headers=admin
    ).json()
    old = made["token"]
    assert api.get("/api/v1/models", headers=auth(old)).status_code == 200  # now cached
    rotated = api.post(f"/api/v1/tokens/{made['id']}/rotate", json={}, headers=admin)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert (new["name"], new["owner"], new["scope"]) == ("ci", "alice", "write")
    assert new["id"] != made["id"]
    assert new["token"] != old
    assert api.get("/api/v1/models", headers=auth(new["token"])).status_code == 200
    assert api.get("/api/v1/models", headers=auth(old)).status_code == 401  # not from the cache
    again = api.post(f"/api/v1/tokens/{made['id']}/rotate", json={}, headers=admin)
    assert again.status_code == 409
    graced = api.post(
        f"/api/v1/tokens/{new['id']}/rotate", json={"grace": "1h"}, headers=admin
    ).json()
    assert api.get("/api/v1/models", headers=auth(new["token"])).status_code == 200
    assert api.get("/api/v1/models", headers=auth(graced["token"])).status_code == 200
    listed = {t["id"]: t for t in api.get("/api/v1/tokens", headers=admin).json()}
    assert listed[new["id"]]["revoked_at"] is None
    assert listed[new["id"]]["expires_at"] is not None
    assert all("token" not in t for t in listed.values())


USER_FIELDS = {
    "owner",
    "user",
    "user_id",
    "username",
    "created_by",
    "updated_by",
    "actor",
    "author",
}
ALLOWED_USER_FIELDS = {
    ("TokenIn", "owner"),  # an admin names who will hold the token being created
    ("SearchRunsIn", "actor"),  # a filter: whose runs to find
    ("EmailChannel", "username"),  # the SMTP server's login
}


def test_no_request_body_names_who_is_acting() -> None:
    """The actor is the token's owner: no /api/v1 body has a field that could say otherwise
    (beyond the ones listed, which do not record anyone as an actor)."""
    document = create_app(Settings(store_url="sqlite://", artifacts_url="unused")).openapi()
    schemas = document["components"]["schemas"]
    found: set[tuple[str, str]] = set()
    seen: set[str] = set()

    def walk(schema: object, name: str) -> None:
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if isinstance(ref, str):
                target = ref.rsplit("/", 1)[-1]
                if target not in seen:
                    seen.add(target)
                    walk(schemas[target], target)
                return
            for key in schema.get("properties") or {}:
                if key in USER_FIELDS:
                    found.add((name, key))
            for value in schema.values():
                walk(value, name)
        elif isinstance(schema, list):
            for item in schema:
                walk(item, name)

    bodies = 0
    for path, operations in document["paths"].items():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content") or {}
            for media in content.values():
                bodies += 1
                walk(media.get("schema"), path)
    assert bodies > 20
    assert found <= ALLOWED_USER_FIELDS, found - ALLOWED_USER_FIELDS
