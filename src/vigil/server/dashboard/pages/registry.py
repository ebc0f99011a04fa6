"""Registry: registered models, one model's versions, aliases and event log, and moving an alias
(with its promotion gates) from the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from vigil.api.specs import Scope
from vigil.errors import InvalidInputError, PromotionRefusedError, VigilError
from vigil.monitor.versions import PREVIOUS, compare_versions
from vigil.registry.gates import Gates
from vigil.registry.service import Registry
from vigil.registry.types import ModelVersionInfo, RegisteredModelInfo, RegistryEventInfo
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


@router.get("/ui/registry")
async def registry_page(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep
) -> HTMLResponse:
    models = await run_in_threadpool(lambda: Registry(store).list_models())
    return templates.page(
        request, "registry.html", {"title": "Registry", "models": models}, viewer=viewer
    )


@dataclass(frozen=True)
class RegistryModelPage:
    model: RegisteredModelInfo
    versions: list[ModelVersionInfo]
    events: list[RegistryEventInfo]
    metric_names: list[str]
    comparison: dict[str, Any] | None = None
    comparison_error: str = ""


def load_registry_model(
    store: Store, name: str, actor: str = "", compare: int | None = None, against: str = ""
) -> RegistryModelPage:
    registry = Registry(store)
    model = registry.get_model(name)
    versions = list(reversed(registry.list_versions(name, actor=actor or None)))
    events = list(reversed(registry.events(name, actor=actor or None)))
    metric_names = sorted({k for v in versions for k in v.metrics})
    comparison, error = None, ""
    if compare is not None:
        try:
            found = compare_versions(store, name, compare, against=against or PREVIOUS)
            comparison = found.to_dict()
        except VigilError as exc:
            error = exc.message
    return RegistryModelPage(model, versions, events, metric_names, comparison, error)


@router.get("/ui/registry/{name}")
async def registry_model_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    done: str = "",
    refused: str = "",
    actor: str = "",
    compare: int | None = None,
    against: str = "",
) -> HTMLResponse:
    try:
        page = await run_in_threadpool(load_registry_model, store, name, actor, compare, against)
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.page(
        request,
        "registry_model.html",
        {"title": name, "page": page, "done": done, "refused": refused, "actor": actor},
        viewer=viewer,
    )


def _gates(form: FormDep) -> Gates | None:
    metric = form.get("gate_metric") or None
    suite_text = form.get("gate_suite")
    if metric is None and not suite_text:
        return None
    suite = None
    if suite_text:
        from vigil.analysis.validation import Suite

        # Parsed here, as the API does: text given to Gates could be read as a server path.
        suite = Suite.from_yaml(suite_text)
    raw_margin = form.get("gate_margin") or "0"
    try:
        margin = float(raw_margin)
    except ValueError:
        raise InvalidInputError(f"the gate margin must be a number, got {raw_margin!r}") from None
    mode = form.get("gate_mode") or "max"
    if mode not in ("max", "min"):
        raise InvalidInputError(f"the gate mode must be 'max' or 'min', got {mode!r}")
    return Gates(suite=suite, metric=metric, margin=margin, mode=mode)  # type: ignore[arg-type]


def _move(
    store: Store, actor: str, name: str, alias: str, version: int, gates: Gates | None
) -> Any:
    return Registry(store, actor=actor).set_alias(name, alias, version, gates=gates)


@router.post("/ui/registry/{name}/aliases")
async def move_alias(
    request: Request, form: FormDep, store: StoreWeb, templates: TemplatesDep, name: str
) -> Response:
    """Point an alias at a version (write scope), after the gates given in the form; a refusal
    comes back to the page with its reasons."""
    form.require(Scope.WRITE)
    page = f"/ui/registry/{quote(name, safe='')}"
    try:
        alias = form.get("alias")
        raw_version = form.get("version")
        if not raw_version.isdigit():
            raise InvalidInputError(f"choose a version number, got {raw_version!r}")
        gates = _gates(form)
        event = await run_in_threadpool(
            _move, store, form.viewer.actor, name, alias, int(raw_version), gates
        )
    except PromotionRefusedError as exc:
        return redirect(f"{page}?{urlencode({'refused': exc.message})}")
    except VigilError as exc:
        return error_page(request, templates, form.viewer, exc)
    message = f"@{event.alias} now points at v{event.to_version}"
    return redirect(f"{page}?{urlencode({'done': message})}")
