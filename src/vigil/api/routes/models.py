"""Monitored models and what their traffic left: `/api/v1/models`, windows, segments, the merged
profile, the prediction rows, the retraining cadence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from vigil.api.http import segment
from vigil.api.routes.base import V1, Area
from vigil.api.specs import DailyVolume, ModelOut, ModelSpec, WindowOut
from vigil.api.wire import ipc_to_table
from vigil.profile import DatasetProfile


def model_path(name: str) -> str:
    return f"{V1}/models/{segment(name)}"


class ModelRoutes(Area):
    def create(self, spec: ModelSpec) -> ModelOut:
        body = spec.model_dump(mode="json")
        return ModelOut.model_validate(self.http.json("POST", f"{V1}/models", json=body))

    def get(self, name: str) -> ModelOut:
        return ModelOut.model_validate(self.http.json("GET", model_path(name)))

    def all(self) -> list[ModelOut]:
        return [ModelOut.model_validate(m) for m in self.http.json("GET", f"{V1}/models")]

    def windows(self, model: str, params: Mapping[str, str]) -> list[WindowOut]:
        pages = self.http.pages(f"{model_path(model)}/windows", params)
        return [WindowOut.model_validate(w) for w in pages]

    def segments(self, model: str) -> list[str]:
        return [str(key) for key in self.http.json("GET", f"{model_path(model)}/segments")]

    def profile(self, model: str, params: Mapping[str, str]) -> DatasetProfile:
        response = self.http.request("GET", f"{model_path(model)}/profile", params=dict(params))
        return DatasetProfile.from_bytes(response.content)

    def predictions(self, model: str, params: Mapping[str, str]) -> pa.Table:
        path = f"{model_path(model)}/predictions"
        return ipc_to_table(self.http.request("GET", path, params=dict(params)).content)

    def volume(self, model: str, params: Mapping[str, str]) -> list[DailyVolume]:
        """Prediction rows per day, and how many of them have a label."""
        body = self.http.json("GET", f"{model_path(model)}/volume", params=dict(params))
        return [DailyVolume.model_validate(d) for d in body]

    def retraining(self, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The retraining cadence (`GET /api/v1/models/{name}/retraining`) as its JSON."""
        body: dict[str, Any] = self.http.json(
            "GET", f"{model_path(model)}/retraining", params=dict(params)
        )
        return body
