"""A model's explanations page: the feature importances logged for each version of the registered
model it serves, as `GET /api/v1/registry/models/{name}/versions/{version}/importances` serves
them (the latest set of each version, and how many sets were logged before it), side by side so
that a reshuffled ranking between versions shows. Only the newest MAX_VERSIONS versions are read
and shown; the page says how many older ones were left out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from vigil.errors import VigilError
from vigil.importances.store import ImportanceRecord, list_importances, model_version_id
from vigil.registry.service import Registry
from vigil.server.dashboard.loaders import model_of
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)

MAX_FEATURES = 100
"""Features the table lists at most (the largest |importance| of the newest version first)."""

MAX_VERSIONS = 10
"""Versions the page reads and shows at most, the newest: two reads each, so a model with
hundreds of versions costs what one with ten does (older ones: the API, version by version)."""


@dataclass(frozen=True)
class VersionImportances:
    """One registered version and the latest importances logged for it (None: none logged)."""

    version: int
    aliases: tuple[str, ...]
    created_at: dt.datetime
    latest: ImportanceRecord | None
    earlier: int
    """Sets logged for the version before `latest` (the API's `history` holds them all)."""
    ranks: dict[str, int] = field(default_factory=dict)
    """Each feature's rank in `latest` by |importance| (1: the most important)."""


@dataclass(frozen=True)
class ExplanationsPage:
    model: str
    registry_model: str | None
    versions: list[VersionImportances] = field(default_factory=list)
    """Newest first; only versions with importances."""
    without: list[int] = field(default_factory=list)
    """Versions with no importances logged."""
    features: list[str] = field(default_factory=list)
    """The table's rows, ranked by the newest version's |importance|, then the older ones'."""
    total_features: int = 0
    older: int = 0
    """Versions older than the newest MAX_VERSIONS: neither read nor shown."""


def _ranks(record: ImportanceRecord) -> dict[str, int]:
    order = sorted(record.values, key=lambda n: (-abs(record.values[n]), n))
    return {n: i for i, n in enumerate(order, start=1)}


def _ranked(versions: list[VersionImportances]) -> list[str]:
    names = {n for v in versions if v.latest for n in v.latest.values}

    def key(name: str) -> tuple[float, ...]:
        return tuple(-abs(v.latest.values.get(name, 0.0)) if v.latest else 0.0 for v in versions)

    return sorted(names, key=lambda n: (key(n), n))


def load_explanations(store: Store, name: str) -> ExplanationsPage:
    model = model_of(store, name)
    registered = model.registry_model
    if not registered:
        return ExplanationsPage(name, None)
    infos = list(reversed(Registry(store).list_versions(registered)))
    shown = infos[:MAX_VERSIONS]

    found = []
    with store.read_session() as session:
        try:
            for info in shown:
                version_id = model_version_id(session, registered, info.version)
                records = list_importances(session, model_version_id=version_id)
                found.append(
                    VersionImportances(
                        info.version,
                        info.aliases,
                        info.created_at,
                        records[0] if records else None,
                        max(len(records) - 1, 0),
                        _ranks(records[0]) if records else {},
                    )
                )
        finally:
            session.rollback()
    versions = [v for v in found if v.latest is not None]
    ranked = _ranked(versions)
    return ExplanationsPage(
        name,
        registered,
        versions,
        [v.version for v in found if v.latest is None],
        ranked[:MAX_FEATURES],
        len(ranked),
        len(infos) - len(shown),
    )


@router.get("/ui/models/{name}/explanations")
async def explanations_page(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep, name: str
) -> HTMLResponse:
    try:
        page = await run_in_threadpool(load_explanations, store, name)
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.page(
        request, "explanations.html", {"title": f"Explanations · {name}", "p": page}, viewer=viewer
    )
