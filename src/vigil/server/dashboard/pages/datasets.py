"""Datasets: every dataset with its versions, one version's profile, and the diff of two."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from vigil.api.tracking import DatasetVersionOut
from vigil.errors import NotFoundError, VigilError
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.store.core import Store
from vigil.tracking.datasets import DatasetService

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    versions: int
    latest: DatasetVersionOut


def load_datasets(store: Store, actor: str = "") -> list[DatasetSummary]:
    grouped: dict[str, list[DatasetVersionOut]] = {}
    for version in DatasetService(store).versions(actor=actor or None):
        grouped.setdefault(version.name, []).append(version)
    return [DatasetSummary(n, len(v), v[-1]) for n, v in sorted(grouped.items())]


@router.get("/ui/datasets")
async def datasets_page(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep, actor: str = ""
) -> HTMLResponse:
    data = await run_in_threadpool(load_datasets, store, actor)
    return templates.page(
        request,
        "datasets.html",
        {"title": "Datasets", "datasets": data, "actor": actor},
        viewer=viewer,
    )


@dataclass
class DatasetPage:
    name: str
    versions: list[DatasetVersionOut]
    shown: DatasetVersionOut
    profile: list[dict[str, Any]]
    runs: list[tuple[str, str]]
    diff: Any = None


def _profile_rows(profile: Any) -> list[dict[str, Any]]:
    rows = []
    for name, column in profile.columns.items():
        body = column.to_dict()
        count = body.get("count") or 0
        missing = body.get("null_count", 0) + body.get("nan_count", 0)
        rows.append(
            {
                "name": name,
                "kind": column.kind.value,
                "count": count,
                "missing": missing / count if count else None,
                "mean": body.get("mean"),
                "min": body.get("min"),
                "max": body.get("max"),
                "distinct": body.get("distinct"),
                "top": ", ".join(
                    str(t.get("value", t)) if isinstance(t, dict) else str(t[0])
                    for t in (body.get("top") or [])[:3]
                ),
            }
        )
    return rows


def load_dataset(store: Store, name: str, version: str, a: str, b: str) -> DatasetPage:
    service = DatasetService(store)
    versions = service.versions(name)
    if not versions:
        raise NotFoundError(f"no dataset named {name!r}", dataset=name)
    shown = service.get(f"{name}@{version}") if version else versions[-1]
    profile = service.profile(shown)
    page = DatasetPage(
        name,
        list(reversed(versions)),
        shown,
        _profile_rows(profile) if profile is not None else [],
        service.runs_using(shown),
    )
    if a and b:
        page.diff = service.diff(f"{name}@{a}", f"{name}@{b}")
    return page


@router.get("/ui/datasets/{name}")
async def dataset_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    version: str = "",
    a: str = "",
    b: str = "",
) -> HTMLResponse:
    try:
        page = await run_in_threadpool(load_dataset, store, name, version, a, b)
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.page(
        request, "dataset.html", {"title": name, "p": page, "a": a, "b": b}, viewer=viewer
    )
