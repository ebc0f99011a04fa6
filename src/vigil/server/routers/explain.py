"""Explainability over HTTP: per-prediction explanations of registered models, feature
importances of runs and model versions, and production attribution windows. Thin: each route
calls `vigil.explain`."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from vigil.analysis.explain.results import Explanation
from vigil.api.specs import Scope
from vigil.caps import MAX_MODEL_COLUMNS
from vigil.config import ServerSettings
from vigil.errors import NotFoundError, PermissionDeniedError
from vigil.explain.local import explain_model
from vigil.explain.production import (
    AttributionsIn,
    AttributionsOut,
    attribution_windows,
    ingest_attributions,
)
from vigil.importances.store import (
    list_importances,
    model_version_id,
    save_importances,
)
from vigil.ingestion import service
from vigil.registry.archives import ArchiveLimits
from vigil.registry.safe_load import HINT, check_loadable, load_safe
from vigil.server.deps import (
    Principal,
    ReadAccess,
    ScopeRequirement,
    SessionDep,
    SettingsDep,
    StoreDep,
    WriteAccess,
)
from vigil.server.params import VersionPath
from vigil.store.core import Store
from vigil.store.tracking_tables import Run

router = APIRouter(tags=["explain"])

MAX_EXPLAIN_ROWS = 10_000
MODEL_CACHE_SIZE = 8

RunId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
VERSIONS = "/api/v1/registry/models/{name}/versions/{version}"


class ExplainIn(BaseModel):
    model: str = Field(
        min_length=1,
        max_length=500,
        description="A model URI: models:/NAME/VERSION, models:/NAME@ALIAS or models:/NAME/latest.",
    )
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_EXPLAIN_ROWS)
    target: str | int | float | bool | None = Field(
        default=None, description="The class explained (default: the positive class)."
    )
    output: Literal["raw", "log_odds", "probability"] | None = None
    algorithm: Literal["auto", "tree", "linear", "kernel"] = "auto"
    background: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_EXPLAIN_ROWS)
    background_size: int = Field(default=100, ge=1, le=MAX_EXPLAIN_ROWS)
    seed: int = 0


class ImportanceIn(BaseModel):
    method: str = Field(min_length=1, max_length=100)
    values: dict[str, float] = Field(min_length=1, max_length=MAX_MODEL_COLUMNS)


class ImportancesOut(BaseModel):
    method: str | None = Field(description="The method asked for (None: the latest of any).")
    latest: dict[str, float] | None = Field(description="The latest set; null when none.")
    history: list[dict[str, Any]] = Field(description="Every set logged, newest first.")


class _ModelCache:
    """Recently loaded registry models, by name, version and artifact digest.

    Models come only from `vigil.registry.safe_load` (skops with an allow-list): this router
    has no path to a loader that could run a client's code."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self._lock = threading.Lock()
        self._limits = limits
        self._models: OrderedDict[tuple[str, int, str], Any] = OrderedDict()

    def get(self, store: Store, uri: str) -> tuple[Any, str]:
        from vigil.client.registry import api as models
        from vigil.registry.service import Registry

        info = models.resolve(uri, store=store)
        key = (info.name, info.version, info.source_sha256)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key], info.uri
        check_loadable(info.source_format, info.source_name, info.uri)  # before any read
        _, data = Registry(store, actor="vigil").artifact(info.name, info.version)
        model = load_safe(
            data,
            info.source_format,
            source_name=info.source_name,
            expected_sha256=info.source_sha256,
            uri=info.uri,
            limits=self._limits,
        )
        with self._lock:
            self._models[key] = model
            while len(self._models) > MODEL_CACHE_SIZE:
                self._models.popitem(last=False)
        return model, info.uri


def _cache(request: Request, settings: ServerSettings) -> _ModelCache:
    cache = getattr(request.app.state, "explain_models", None)
    if cache is None:
        cache = request.app.state.explain_models = _ModelCache(settings.archive_limits)
    assert isinstance(cache, _ModelCache)
    return cache


def _explain(store: Store, cache: _ModelCache, body: ExplainIn) -> tuple[str, Explanation]:
    model, uri = cache.get(store, body.model)
    explanation = explain_model(
        model,
        body.rows,
        target=body.target,
        output=body.output,
        algorithm=body.algorithm,
        background=body.background,
        background_size=body.background_size,
        seed=body.seed,
    )
    return uri, explanation


class ServerSideExplainDisabledError(PermissionDeniedError):
    """The server does not explain registered models: an admin has not turned it on."""

    code = "server_side_explain_disabled"


# A route that loads a model is never open to a read token; the refusal says where to explain.
ExplainAccess = Annotated[
    Principal,
    Depends(
        ScopeRequirement(
            Scope.WRITE, hint=f"server-side explanation also needs an admin to enable it; {HINT}"
        )
    ),
]


@router.post("/api/v1/explain", response_model=None)
async def explain_rows(
    _: ExplainAccess,
    body: ExplainIn,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    format: Literal["json", "html"] = "json",
) -> Response:
    """Each feature's contribution to each row's prediction and the base value; they add up to
    the model's output in `output_space` (see docs/explain.md). `?format=html` returns a
    self-contained page.

    Off by default (403 `server_side_explain_disabled`): an admin enables it with
    VIGIL_SERVER_SIDE_EXPLAIN=true. Even then, only skops models of scikit-learn and NumPy
    types are loaded (422 `model_not_loadable_on_server` for joblib, pickle or MLflow models);
    `vigil.explain` explains any model in the caller's own process."""
    if not settings.server_side_explain:
        raise ServerSideExplainDisabledError(
            "server-side explanation is off on this server (an admin enables it with "
            f"VIGIL_SERVER_SIDE_EXPLAIN=true, for skops models only); {HINT}",
            setting="server_side_explain",
        )
    uri, explanation = await run_in_threadpool(_explain, store, _cache(request, settings), body)
    if format == "html":
        return HTMLResponse(explanation.to_html(title=f"Explanation of {uri}"))
    return JSONResponse({"model": uri, **explanation.to_dict()})


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time from a query string; one without a zone is read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _check_run(session: Session, run_id: str) -> None:
    if session.get(Run, run_id) is None:
        raise NotFoundError(f"no run with id {run_id!r}", run_id=run_id)


def _importances(
    session: Session, *, run_id: str | None, version_id: int | None, method: str | None
) -> ImportancesOut:
    records = list_importances(session, run_id=run_id, model_version_id=version_id, method=method)
    return ImportancesOut(
        method=method,
        latest=records[0].values if records else None,
        history=[r.to_dict() for r in records],
    )


@router.post("/api/v1/runs/{run_id}/importances", status_code=status.HTTP_201_CREATED)
def log_run_importances(
    principal: WriteAccess, run_id: RunId, body: ImportanceIn, session: SessionDep
) -> ImportancesOut:
    """Record a run's global feature importances (a new set; earlier ones are kept)."""
    save_importances(
        session, run_id=run_id, method=body.method, values=body.values, actor=principal.actor
    )
    session.commit()
    return _importances(session, run_id=run_id, version_id=None, method=body.method)


@router.get("/api/v1/runs/{run_id}/importances")
def get_run_importances(
    _: ReadAccess,
    run_id: RunId,
    session: SessionDep,
    method: Annotated[str | None, Query(max_length=100)] = None,
) -> ImportancesOut:
    def read(s: Session) -> ImportancesOut:
        _check_run(s, run_id)
        return _importances(s, run_id=run_id, version_id=None, method=method)

    return service.read_only(session, read)


@router.post(f"{VERSIONS}/importances", status_code=status.HTTP_201_CREATED)
def log_version_importances(
    principal: WriteAccess,
    name: str,
    version: VersionPath,
    body: ImportanceIn,
    session: SessionDep,
) -> ImportancesOut:
    """Record a model version's global feature importances."""
    version_id = model_version_id(session, name, version)
    save_importances(
        session,
        model_version_id=version_id,
        method=body.method,
        values=body.values,
        actor=principal.actor,
    )
    session.commit()
    return _importances(session, run_id=None, version_id=version_id, method=body.method)


@router.get(f"{VERSIONS}/importances")
def get_version_importances(
    _: ReadAccess,
    name: str,
    version: VersionPath,
    session: SessionDep,
    method: Annotated[str | None, Query(max_length=100)] = None,
) -> ImportancesOut:
    return service.read_only(
        session,
        lambda s: _importances(
            s, run_id=None, version_id=model_version_id(s, name, version), method=method
        ),
    )


@router.post("/api/v1/models/{name}/attributions")
def log_attributions(
    _: WriteAccess, name: str, body: AttributionsIn, session: SessionDep
) -> AttributionsOut:
    """Add the |attribution| sums of rows explained at log time to the model's windows (once
    per `batch_id`)."""
    out = ingest_attributions(session, name, body)
    session.commit()
    return out


@router.get("/api/v1/models/{name}/attributions")
def get_attributions(
    _: ReadAccess,
    name: str,
    session: SessionDep,
    version: Annotated[str | None, Query(max_length=200)] = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Stored windows, oldest first: rows explained and mean |attribution| per feature."""
    since, until = _utc(start), _utc(end)
    windows = service.read_only(
        session,
        lambda s: attribution_windows(s, name, version=version, start=since, end=until),
    )
    return [w.to_dict() for w in windows]
