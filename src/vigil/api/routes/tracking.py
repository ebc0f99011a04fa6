"""Experiment tracking: experiments, runs, their metrics, artifacts, live points and inputs, and
the dataset versions runs read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.api.http import segment
from vigil.api.routes.base import V1, Area
from vigil.api.tracking import (
    ArtifactOut,
    ChunkHashes,
    DatasetVersionIn,
    DatasetVersionOut,
    EndRunIn,
    ExperimentOut,
    MetricPoint,
    RunData,
    RunIn,
    RunInfo,
    RunInputIn,
    RunsPage,
    SearchRunsIn,
)

_OCTETS = {"Content-Type": "application/octet-stream"}


def run_path(run_id: str) -> str:
    return f"{V1}/runs/{segment(run_id)}"


class RunRoutes(Area):
    def get_experiment(self, name: str) -> ExperimentOut:
        return ExperimentOut.model_validate(
            self.http.json("GET", f"{V1}/experiments/{segment(name)}")
        )

    def experiments(self) -> list[ExperimentOut]:
        return [ExperimentOut.model_validate(e) for e in self.http.json("GET", f"{V1}/experiments")]

    def create_experiment(self, name: str) -> ExperimentOut:
        body = self.http.json("POST", f"{V1}/experiments", json={"name": name})
        return ExperimentOut.model_validate(body)

    def create(self, body: RunIn) -> RunInfo:
        answer = self.http.json("POST", f"{V1}/runs", json=body.model_dump(mode="json"))
        return RunInfo.model_validate(answer)

    def log_batch(self, run_id: str, body: Mapping[str, Any]) -> None:
        """Metrics (`[{key, value, step, timestamp_ms}]`), params and tags of one request."""
        self.http.request("POST", f"{run_path(run_id)}/log-batch", json=dict(body))

    def end(self, run_id: str, body: EndRunIn) -> RunInfo:
        answer = self.http.json(
            "POST", f"{run_path(run_id)}/end", json=body.model_dump(mode="json")
        )
        return RunInfo.model_validate(answer)

    def get(self, run_id: str) -> RunData:
        return RunData.model_validate(self.http.json("GET", run_path(run_id)))

    def search(self, body: SearchRunsIn) -> RunsPage:
        answer = self.http.json("POST", f"{V1}/runs/search", json=body.model_dump(mode="json"))
        return RunsPage.model_validate(answer)

    def metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[MetricPoint]:
        params = {"max_points": str(max_points)} if max_points is not None else {}
        path = f"{run_path(run_id)}/metrics/{segment(key)}/history"
        return [MetricPoint.model_validate(p) for p in self.http.json("GET", path, params=params)]

    def live_metrics(self, run_id: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        """`GET /api/v1/runs/{id}/metrics/live` as its JSON (a `vigil.lifecycle.live.LivePage`)."""
        body: dict[str, Any] = self.http.json(
            "GET", f"{run_path(run_id)}/metrics/live", params=dict(params)
        )
        return body

    def put_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut:
        response = self.http.request(
            "PUT",
            f"{run_path(run_id)}/artifacts/file",
            params={"path": path},
            content=data,
            headers=_OCTETS,
        )
        return ArtifactOut.model_validate(response.json())

    def artifacts(self, run_id: str) -> list[ArtifactOut]:
        body = self.http.json("GET", f"{run_path(run_id)}/artifacts")
        return [ArtifactOut.model_validate(a) for a in body]

    def artifact(self, run_id: str, path: str) -> bytes:
        response = self.http.request(
            "GET", f"{run_path(run_id)}/artifacts/file", params={"path": path}
        )
        return response.content

    def inputs(self, run_id: str) -> list[tuple[DatasetVersionOut, str]]:
        """The dataset versions the run read, with the context of each."""
        body = self.http.json("GET", f"{run_path(run_id)}/inputs")
        return [(DatasetVersionOut.model_validate(i["version"]), str(i["context"])) for i in body]

    def link_input(self, run_id: str, body: RunInputIn) -> None:
        self.http.request("POST", f"{run_path(run_id)}/inputs", json=body.model_dump(mode="json"))


class DatasetRoutes(Area):
    def missing_chunks(self, hashes: list[str]) -> list[str]:
        body = self.http.json("POST", f"{V1}/datasets/chunks/missing", json={"hashes": hashes})
        return ChunkHashes.model_validate(body).hashes

    def put_chunk(self, digest: str, data: bytes) -> None:
        path = f"{V1}/datasets/chunks/{segment(digest)}"
        self.http.request("PUT", path, content=data, headers=_OCTETS)

    def register_version(self, body: DatasetVersionIn) -> DatasetVersionOut:
        answer = self.http.json(
            "POST", f"{V1}/datasets/versions", json=body.model_dump(mode="json")
        )
        return DatasetVersionOut.model_validate(answer)

    def versions(self, params: Mapping[str, str]) -> list[DatasetVersionOut]:
        """Dataset versions (`name`, `actor` to narrow them)."""
        body = self.http.json("GET", f"{V1}/datasets/versions", params=dict(params))
        return [DatasetVersionOut.model_validate(v) for v in body]

    def version(self, ref: str) -> DatasetVersionOut:
        """`NAME`, `NAME@3` or `NAME@<digest prefix>`."""
        body = self.http.json("GET", f"{V1}/datasets/versions/{segment(ref)}")
        return DatasetVersionOut.model_validate(body)

    def content(self, ref: str) -> bytes:
        """The bytes of dataset version `ref` (`name@version`)."""
        path = f"{V1}/datasets/versions/{segment(ref)}/content"
        return self.http.request("GET", path).content

    def profile(self, ref: str) -> bytes:
        """The stored profile of dataset version `ref` (.vgp bytes; 404 when it has none)."""
        path = f"{V1}/datasets/versions/{segment(ref)}/profile"
        return self.http.request("GET", path).content
