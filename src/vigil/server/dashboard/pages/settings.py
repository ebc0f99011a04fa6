"""Settings: API tokens (list, create, revoke; admin only) and alert channels (secrets hidden)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from vigil.access import tokens as access
from vigil.api.specs import NewToken, Scope, TokenOut
from vigil.errors import InvalidInputError, VigilError
from vigil.events.channels import redact_channel
from vigil.monitor import api as monitor_api
from vigil.server.dashboard.web import (
    FormDep,
    StoreWeb,
    TemplatesDep,
    ViewerDep,
    error_page,
    redirect,
)
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)


def _tokens(store: Store) -> list[TokenOut]:
    with store.read_session() as session:
        try:
            return access.list_tokens(session)
        finally:
            session.rollback()


def _channels(store: Store) -> list[dict[str, Any]]:
    """The channels as the API lists them: each kind's `redact` hides its secrets."""
    out = []
    for channel in monitor_api.list_channels(store):
        body = redact_channel(channel).model_dump(mode="json")
        body["type"] = channel.config.type
        out.append(body)
    return out


@router.get("/ui/settings")
async def settings_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    done: str = "",
) -> HTMLResponse:
    admin = viewer.can(Scope.ADMIN)
    tokens = await run_in_threadpool(_tokens, store) if admin else []
    channels = await run_in_threadpool(_channels, store)
    return templates.page(
        request,
        "settings.html",
        {
            "title": "Settings",
            "admin": admin,
            "tokens": tokens,
            "channels": channels,
            "done": done,
            "secret": "",
        },
        viewer=viewer,
    )


def _create(store: Store, scope: Scope, name: str, owner: str) -> NewToken:
    with store.session() as session:
        return access.create_token(session, scope, name=name, owner=owner)


@router.post("/ui/settings/tokens")
async def create_token(
    request: Request, form: FormDep, store: StoreWeb, templates: TemplatesDep
) -> Response:
    """Create a token (admin); its secret is shown on this response only, never again."""
    form.require(Scope.ADMIN)
    try:
        raw_scope = form.get("scope")
        if raw_scope not in {s.value for s in Scope}:
            raise InvalidInputError(f"scope must be read, write or admin, got {raw_scope!r}")
        name = form.get("name")[:200]
        owner = form.get("owner")[:200] or form.viewer.owner
        token = await run_in_threadpool(_create, store, Scope(raw_scope), name, owner)
    except VigilError as exc:
        return error_page(request, templates, form.viewer, exc)
    tokens = await run_in_threadpool(_tokens, store)
    channels = await run_in_threadpool(_channels, store)
    return templates.page(
        request,
        "settings.html",
        {
            "title": "Settings",
            "admin": True,
            "tokens": tokens,
            "channels": channels,
            "done": f"Token {token.id} created",
            "secret": token.token,
        },
        viewer=form.viewer,
    )


def _revoke(store: Store, token_id: str) -> None:
    with store.session() as session:
        access.revoke_token(session, token_id)


@router.post("/ui/settings/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, form: FormDep, store: StoreWeb, templates: TemplatesDep, token_id: str
) -> Response:
    form.require(Scope.ADMIN)
    try:
        await run_in_threadpool(_revoke, store, token_id)
    except VigilError as exc:
        return error_page(request, templates, form.viewer, exc)
    request.app.state.token_cache.forget(token_id)
    return redirect("/ui/settings?" + urlencode({"done": f"Token {token_id} revoked"}))
