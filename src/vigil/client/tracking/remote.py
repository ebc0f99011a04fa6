"""Runs logged to a Vigil server: the tracking operations a `Run` needs, over a client transport.

The interface (`TrackingBackend`) is the one `TrackingService` offers on the embedded store, so a
`Run` works the same in both modes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from vigil.api.tracking import (
    ArtifactOut,
    DatasetVersionOut,
    EndRunIn,
    ExperimentOut,
    RunData,
    RunIn,
    RunInfo,
    RunInputIn,
    RunStatus,
)
from vigil.client.transport import Transport, UnavailableError
from vigil.errors import ConflictError, NotFoundError

Point = tuple[str, float, int, int]


class TrackingBackend(Protocol):
    """What a `Run` writes through: `TrackingService` (embedded store) or `RemoteTracking`."""

    def ensure_experiment(self, name: str, *, owner: str = "") -> ExperimentOut: ...
    def create_run(
        self,
        experiment_id: int,
        *,
        name: str = "",
        owner: str = "",
        parent_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_ms: int | None = None,
    ) -> RunInfo: ...
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Point] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None: ...
    def end_run(self, run_id: str, status: RunStatus, *, end_ms: int | None = None) -> RunInfo: ...
    def put_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut: ...
    def get_run(self, run_id: str) -> RunData: ...
    def log_dataset(
        self, run_id: str, data_or_path: Any, name: str, context: str, *, owner: str = ""
    ) -> DatasetVersionOut: ...
    def close(self) -> None: ...


class RemoteTracking:
    """`TrackingBackend` over a transport. The server records the token's owner as the run's
    owner (the `owner` arguments are ignored)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def ensure_experiment(self, name: str, *, owner: str = "") -> ExperimentOut:
        try:
            return self.transport.get_experiment(name)
        except NotFoundError:
            pass
        try:
            return self.transport.create_experiment(name)
        except ConflictError:  # created by someone else meanwhile
            return self.transport.get_experiment(name)

    def create_run(
        self,
        experiment_id: int,
        *,
        name: str = "",
        owner: str = "",
        parent_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_ms: int | None = None,
    ) -> RunInfo:
        body = RunIn(
            experiment=experiment_id,
            name=name,
            parent_id=parent_id,
            tags=dict(tags or {}),
            start_ms=start_ms,
        )
        return self.transport.create_run(body)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Point] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        try:
            self.transport.log_run_batch(run_id, metrics, params or {}, tags or {})
        except UnavailableError as exc:  # the run keeps the points and retries at the next flush
            raise ConnectionError(str(exc)) from exc

    def end_run(self, run_id: str, status: RunStatus, *, end_ms: int | None = None) -> RunInfo:
        return self.transport.end_run(run_id, EndRunIn(status=status, end_ms=end_ms))

    def put_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactOut:
        return self.transport.put_run_artifact(run_id, path, data)

    def get_run(self, run_id: str) -> RunData:
        return self.transport.get_run(run_id)

    def log_dataset(
        self, run_id: str, data_or_path: Any, name: str, context: str, *, owner: str = ""
    ) -> DatasetVersionOut:
        """Hash and profile the data here, upload only the chunks the server lacks, register
        the version and link it to the run."""
        from vigil.tracking.datasets import check_dataset_name, prepare, push

        prepared = prepare(data_or_path)
        version = push(
            prepared,
            check_dataset_name(name),
            missing=self.transport.missing_dataset_chunks,
            put_chunk=self.transport.put_dataset_chunk,
            register=self.transport.register_dataset_version,
        )
        self.transport.link_run_input(
            run_id, RunInputIn(dataset_version_id=version.id, context=context)
        )
        return version

    def close(self) -> None:
        self.transport.close()
