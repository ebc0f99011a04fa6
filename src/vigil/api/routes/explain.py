"""Explanations: global importances of runs and model versions, and production attributions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.api.routes.base import Area
from vigil.api.routes.models import model_path
from vigil.api.routes.registry import RegistryRoutes
from vigil.api.routes.tracking import run_path


class ExplainRoutes(Area):
    def log_run_importances(self, run_id: str, body: Mapping[str, Any]) -> None:
        """Record a run's global importances (`{"method", "values"}`)."""
        self.http.request("POST", f"{run_path(run_id)}/importances", json=dict(body))

    def run_importances(self, run_id: str, params: Mapping[str, str]) -> Any:
        return self.http.json("GET", f"{run_path(run_id)}/importances", params=dict(params))

    def log_version_importances(self, name: str, version: int, body: Mapping[str, Any]) -> None:
        RegistryRoutes(self.http).log_importances(name, version, body)

    def log_attributions(self, model: str, body: str) -> bytes:
        """Send an attribution upload (`AttributionsIn`'s JSON); the answer's JSON bytes."""
        response = self.http.request(
            "POST",
            f"{model_path(model)}/attributions",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        return response.content
