"""Explanations: global importances of runs and model versions, and production attributions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.api.routes.base import V1, Area
from vigil.api.routes.models import model_path
from vigil.api.routes.registry import RegistryRoutes, version_path
from vigil.api.routes.tracking import run_path


class ExplainRoutes(Area):
    def explain(self, body: Mapping[str, Any], *, format: str = "json") -> Any:
        """Server-side explanation of rows by a registered model (JSON, or HTML as text)."""
        response = self.http.request(
            "POST", f"{V1}/explain", json=dict(body), params={"format": format}
        )
        return response.text if format == "html" else response.json()

    def log_run_importances(self, run_id: str, body: Mapping[str, Any]) -> None:
        """Record a run's global importances (`{"method", "values"}`)."""
        self.http.request("POST", f"{run_path(run_id)}/importances", json=dict(body))

    def run_importances(self, run_id: str, params: Mapping[str, str]) -> Any:
        return self.http.json("GET", f"{run_path(run_id)}/importances", params=dict(params))

    def log_version_importances(self, name: str, version: int, body: Mapping[str, Any]) -> None:
        RegistryRoutes(self.http).log_importances(name, version, body)

    def version_importances(self, name: str, version: int, params: Mapping[str, str]) -> Any:
        path = f"{version_path(name, version)}/importances"
        return self.http.json("GET", path, params=dict(params))

    def attributions(self, model: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The model's stored attribution windows (mean |attribution| per feature)."""
        path = f"{model_path(model)}/attributions"
        return list(self.http.json("GET", path, params=dict(params)))

    def log_attributions(self, model: str, body: str) -> bytes:
        """Send an attribution upload (`AttributionsIn`'s JSON); the answer's JSON bytes."""
        response = self.http.request(
            "POST",
            f"{model_path(model)}/attributions",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        return response.content
