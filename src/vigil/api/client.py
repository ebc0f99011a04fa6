"""`VigilApi`: one typed client for the /api/v1 routes, by area.

>>> api = VigilApi("http://vigil:8000", "vgl_...", retries=3)          # doctest: +SKIP
>>> api.models.get("churn").window_seconds                              # doctest: +SKIP
>>> api.runs.get(run_id).info.status                                    # doctest: +SKIP

Each area (`api.models`, `api.ingest`, `api.kpis`, `api.runs`, `api.datasets`, `api.registry`,
`api.monitors`, `api.channels`, `api.alerts`, `api.performance`, `api.explain`, `api.events`,
`api.tokens`)
calls through this one connection: its URL, token, retries and error mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.api.http import ApiClient
from vigil.api.routes.events import EventRoutes
from vigil.api.routes.explain import ExplainRoutes
from vigil.api.routes.ingest import IngestRoutes, KpiRoutes
from vigil.api.routes.models import ModelRoutes
from vigil.api.routes.monitors import AlertRoutes, ChannelRoutes, MonitorRoutes
from vigil.api.routes.performance import PerformanceRoutes
from vigil.api.routes.registry import RegistryRoutes
from vigil.api.routes.retention import RetentionRoutes
from vigil.api.routes.tokens import TokenRoutes
from vigil.api.routes.tracking import DatasetRoutes, RunRoutes

if TYPE_CHECKING:
    import httpx

__all__ = ["VigilApi"]


class VigilApi(ApiClient):
    """An `ApiClient` with the routes of every area as typed calls."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
        retries: int | None = None,
        backoff: float = 0.2,
    ) -> None:
        super().__init__(url, token, timeout=timeout, http=http, retries=retries, backoff=backoff)
        self.models = ModelRoutes(self)
        self.ingest = IngestRoutes(self)
        self.kpis = KpiRoutes(self)
        self.runs = RunRoutes(self)
        self.datasets = DatasetRoutes(self)
        self.registry = RegistryRoutes(self)
        self.monitors = MonitorRoutes(self)
        self.channels = ChannelRoutes(self)
        self.alerts = AlertRoutes(self)
        self.performance = PerformanceRoutes(self)
        self.explain = ExplainRoutes(self)
        self.events = EventRoutes(self)
        self.tokens = TokenRoutes(self)
        self.retention = RetentionRoutes(self)

    def __enter__(self) -> VigilApi:
        return self
