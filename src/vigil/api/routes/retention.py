"""A model's retention policy: `GET` and `PUT /api/v1/models/{name}/retention`."""

from __future__ import annotations

from vigil.api.retention import RetentionIn, RetentionOut
from vigil.api.routes.base import Area
from vigil.api.routes.models import model_path


def retention_path(name: str) -> str:
    return f"{model_path(name)}/retention"


class RetentionRoutes(Area):
    def get(self, model: str) -> RetentionOut:
        return RetentionOut.model_validate(self.http.json("GET", retention_path(model)))

    def put(self, model: str, policy: RetentionIn) -> RetentionOut:
        body = policy.model_dump(mode="json")
        return RetentionOut.model_validate(self.http.json("PUT", retention_path(model), json=body))
