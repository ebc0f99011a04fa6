"""Logged traffic: the binary log and label batches and business KPI values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from vigil.analysis.kpi import KpiComparison, KpiSeries
from vigil.api.routes.base import V1, Area
from vigil.api.routes.models import model_path
from vigil.api.specs import IngestResult, KpiIn, KpiOut
from vigil.api.wire import CONTENT_TYPE


class IngestRoutes(Area):
    def send(
        self,
        kind: Literal["log", "labels"],
        model: str,
        body: bytes,
        *,
        attempts: int | None = None,
    ) -> IngestResult:
        """One encoded `LogBatch` or `LabelBatch` (`kind`) for `model`."""
        response = self.http.request(
            "POST",
            f"{model_path(model)}/{kind}",
            content=body,
            headers={"Content-Type": CONTENT_TYPE},
            attempts=attempts,
        )
        return IngestResult.model_validate(response.json())


class KpiRoutes(Area):
    def log(self, kpi: KpiIn, *, attempts: int | None = None) -> KpiOut:
        body = kpi.model_dump(mode="json")
        response = self.http.request("POST", f"{V1}/kpis", json=body, attempts=attempts)
        return KpiOut.model_validate(response.json())

    def all(self, params: Mapping[str, str]) -> list[KpiOut]:
        return [KpiOut.model_validate(k) for k in self.http.pages(f"{V1}/kpis", params)]

    def series(self, params: Mapping[str, str]) -> KpiSeries:
        """A KPI per version and window (`name`, `model`, `version`, `window`, `start`, `end`)."""
        return KpiSeries.from_dict(self.http.json("GET", f"{V1}/kpis/series", params=dict(params)))

    def compare(self, params: Mapping[str, str]) -> KpiComparison:
        """A KPI of version `b` against version `a` (`name`, `model`, `a`, `b`, `start`, `end`)."""
        body = self.http.json("GET", f"{V1}/kpis/compare", params=dict(params))
        return KpiComparison.from_dict(body)
