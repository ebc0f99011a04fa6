"""Overview: every monitored model with its production version, health, last data and volume."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.monitor.reading import active_alert_counts, counts_for
from vigil.registry.service import Registry
from vigil.server.dashboard import charts
from vigil.server.dashboard.loaders import daily_rows
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)
SPARK_DAYS = 30


@dataclass(frozen=True)
class ModelCard:
    name: str
    description: str
    n_features: int
    registry_model: str | None
    production: int | None
    alerts: Counter[str]
    last_arrival: dt.datetime | None
    rows_last_day: int
    spark: Markup


@dataclass(frozen=True)
class Overview:
    models: list[ModelCard]
    registered: int
    open_alerts: int


def load_overview(store: Store) -> Overview:
    registered = {m.name: m for m in Registry(store).list_models()}
    cards = []
    with store.read_session() as session:
        try:
            counts = active_alert_counts(session)
            for model in ingestion.list_models(session):
                last = queries.latest_start(session, model.name)
                rows = []
                if last is not None:
                    rows = ingestion.list_windows(
                        session, model.name, start=last - dt.timedelta(days=SPARK_DAYS)
                    )
                days = daily_rows(rows)
                production = None
                if model.registry_model and model.registry_model in registered:
                    production = registered[model.registry_model].aliases.get("production")
                cards.append(
                    ModelCard(
                        name=model.name,
                        description=model.description,
                        n_features=len(model.features),
                        registry_model=model.registry_model,
                        production=production,
                        alerts=counts_for(model.name, counts),
                        last_arrival=max((r.last_arrival for r in rows), default=None),
                        rows_last_day=days[-1][1] if days else 0,
                        spark=charts.sparkline([float(n) for _, n in days]),
                    )
                )
        finally:
            session.rollback()
    return Overview(
        models=cards,
        registered=len(registered),
        open_alerts=sum(sum(c.values()) for c in counts.values()),
    )


@router.get("/ui/")
async def overview(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep
) -> HTMLResponse:
    data = await run_in_threadpool(load_overview, store)
    return templates.page(
        request, "overview.html", {"title": "Overview", "data": data}, viewer=viewer
    )
