"""Model performance from logged predictions and labels: realized, estimated without labels
(CBPE for classifiers, DLE for regression), by segment, and fairness across groups. Each answer
is the report's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from vigil.api.routes.base import Area
from vigil.api.routes.models import model_path

Report = Literal["realized", "estimated", "segments", "fairness"]
_PATHS: dict[str, str] = {
    "realized": "performance",
    "estimated": "performance/estimated",
    "segments": "performance/segments",
    "fairness": "fairness",
}


class PerformanceRoutes(Area):
    def report(self, report: Report, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One of the four performance reports of `model` (query `params`, None left out)."""
        if report not in _PATHS:
            raise ValueError(f"report must be one of {sorted(_PATHS)}, got {report!r}")
        query = {k: v for k, v in params.items() if v is not None}
        path = f"{model_path(model)}/{_PATHS[report]}"
        return dict(self.http.json("GET", path, params=query))
