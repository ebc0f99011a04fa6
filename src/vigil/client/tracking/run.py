"""`vigil.start_run`: a tracked run with params, metrics, tags, artifacts and nested runs.

>>> with vigil.start_run(experiment="churn") as run:          # doctest: +SKIP
...     run.log_params({"model": "xgb", "depth": 6})
...     for epoch in range(10):
...         run.log_metric("loss", 1 / (epoch + 1))

Metrics are buffered in memory and written in batches by a background thread every
`flush_interval` seconds, when the buffer is large, and when the run ends (also at interpreter
exit for a run that was never ended), so logging a point costs an append.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from vigil.actors import current_user
from vigil.api.tracking import ArtifactOut, RunData, RunInfo, RunStatus
from vigil.client.tracking.capture import (
    Captured,
    capture_environment,
    capture_git,
    capture_source,
)
from vigil.client.tracking.remote import RemoteTracking, TrackingBackend
from vigil.client.tracking.system import SystemSampler
from vigil.errors import ConflictError, InvalidInputError
from vigil.tracking.service import Point, TrackingService, check_key, now_ms

if TYPE_CHECKING:
    from vigil.api.tracking import DatasetVersionOut
    from vigil.store.core import Store

logger = logging.getLogger("vigil.tracking")

MAX_BUFFERED_POINTS = 200_000
"""Above this many unwritten points, the logging thread writes them itself (bounded memory)."""

_ACTIVE: contextvars.ContextVar[tuple[Run, ...]] = contextvars.ContextVar(
    "vigil_active_runs", default=()
)


def _param_value(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class Run:
    """A run in progress. Use it as a context manager: it ends `finished`, `failed` on an
    exception, `killed` on KeyboardInterrupt. Build it with `vigil.start_run`."""

    def __init__(
        self,
        service: TrackingBackend,
        info: RunInfo,
        *,
        flush_interval: float = 1.0,
        owns_service: bool = False,
        parent: Run | None = None,
    ) -> None:
        self._service = service
        self.info = info
        self.parent = parent
        self.flush_interval = flush_interval
        self._owns_service = owns_service
        self._params: dict[str, str] = {}
        self._steps: dict[str, int] = {}
        self._buffer: list[Point] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._sampler: SystemSampler | None = None
        self._children: list[Run] = []
        self._token: contextvars.Token[tuple[Run, ...]] | None = None
        self.ended = False
        self._flusher = threading.Thread(
            target=self._flush_loop, name="vigil-run-flush", daemon=True
        )
        self._flusher.start()
        atexit.register(self._at_exit)

    # attributes ------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def experiment_id(self) -> int:
        return self.info.experiment_id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def owns_service(self) -> bool:
        """Whether the run opened its store (or server connection) and closes it when it ends."""
        return self._owns_service

    @property
    def service(self) -> TrackingBackend:
        return self._service

    # params and tags ------------------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        """Record a param; params are immutable: another value for the same key raises
        ConflictError naming both values."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        values = {check_key(k, "param"): _param_value(v) for k, v in params.items()}
        for key, value in values.items():
            old = self._params.get(key)
            if old is not None and old != value:
                raise ConflictError(
                    f"param {key!r} of run {self.id} is already {old!r}; it cannot become "
                    f"{value!r} (params are immutable: log a new run, or use a tag)",
                    key=key,
                    old_value=old,
                    new_value=value,
                )
        new = {k: v for k, v in values.items() if k not in self._params}
        if new:
            self._service.log_batch(self.id, params=new)
            self._params.update(new)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._service.log_batch(
            self.id, tags={check_key(k, "tag"): str(v) for k, v in tags.items()}
        )

    # metrics -----------------------------------------------------------------------------------

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffer one point. `step` defaults to the key's previous step + 1 (0 first);
        `timestamp` is milliseconds since the epoch (now by default)."""
        stamp = timestamp if timestamp is not None else time.time_ns() // 1_000_000
        with self._lock:
            if step is None:
                step = self._steps.get(key, -1) + 1
            if key not in self._steps:
                check_key(key, "metric")
            self._steps[key] = max(step, self._steps.get(key, step))
            self._buffer.append((key, float(value), step, stamp))
            large = len(self._buffer) >= MAX_BUFFERED_POINTS
        if large:
            self.flush()

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        stamp = timestamp if timestamp is not None else time.time_ns() // 1_000_000
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=stamp)

    def flush(self) -> int:
        """Write the buffered points now; returns how many were written."""
        with self._write_lock:
            with self._lock:
                points, self._buffer = self._buffer, []
            if not points:
                return 0
            try:
                self._service.log_batch(self.id, metrics=points)
            except BaseException:
                with self._lock:
                    self._buffer = points + self._buffer
                raise
            return len(points)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
            except Exception as exc:  # kept, and raised when the run ends
                logger.warning("run %s: writing metrics failed, will retry: %s", self.id, exc)
                self._error = exc

    # artifacts ---------------------------------------------------------------------------------

    def log_artifact(
        self, path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> ArtifactOut:
        """Store a file as `artifact_path/<file name>` (or `<file name>`)."""
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"artifact {str(source)!r} is not a file", path=str(source))
        name = f"{artifact_path.strip('/')}/{source.name}" if artifact_path else source.name
        return self._service.put_artifact(self.id, name, source.read_bytes())

    def log_artifacts(
        self, folder: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[ArtifactOut]:
        """Store every file under `folder`, keeping their relative paths."""
        root = Path(folder)
        if not root.is_dir():
            raise InvalidInputError(
                f"artifacts folder {str(root)!r} is not a folder", path=str(root)
            )
        stored = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = file.relative_to(root).as_posix()
            name = f"{artifact_path.strip('/')}/{relative}" if artifact_path else relative
            stored.append(self._service.put_artifact(self.id, name, file.read_bytes()))
        return stored

    def log_text(self, text: str, artifact_path: str) -> ArtifactOut:
        return self._service.put_artifact(self.id, artifact_path, text.encode())

    def log_bytes(self, data: bytes, artifact_path: str) -> ArtifactOut:
        return self._service.put_artifact(self.id, artifact_path, data)

    # datasets ----------------------------------------------------------------------------------

    def log_dataset(
        self, data_or_path: Any, name: str, context: str = "training"
    ) -> DatasetVersionOut:
        """Record a content-addressed version of the data (and its profile) as this run's input."""
        return self._service.log_dataset(
            self.id, data_or_path, name, context, owner=self.info.owner
        )

    # nesting and lifecycle ---------------------------------------------------------------------

    def child(self, name: str | None = None, *, tags: Mapping[str, Any] | None = None) -> Run:
        """A nested run of this one (same experiment), ended with it at the latest."""
        info = self._service.create_run(
            self.experiment_id,
            name=name or "",
            owner=self.info.owner,
            parent_id=self.id,
            tags={"vigil.parent_run_id": self.id, **{k: str(v) for k, v in (tags or {}).items()}},
        )
        run = Run(self._service, info, flush_interval=self.flush_interval, parent=self)
        self._children.append(run)
        return run

    def capture(self, *, git: bool = True, environment: bool = True, source: bool = True) -> None:
        """Record code version, script, argv and environment (done by `start_run` by default)."""
        parts: list[Captured] = []
        if git:
            parts.append(capture_git())
        if source:
            parts.append(capture_source())
        if environment:
            parts.append(capture_environment())
        tags: dict[str, str] = {}
        for part in parts:
            tags.update(part.tags)
            for path, data in part.artifacts.items():
                self._service.put_artifact(self.id, path, data)
        if tags:
            self.set_tags(tags)

    def start_system_metrics(self, interval: float = 5.0) -> None:
        if self._sampler is None:
            self._sampler = SystemSampler(self.log_metrics, interval)
            self._sampler.start()

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> RunInfo:
        """Flush the metrics, stop the background threads and record the final status."""
        if self.ended:
            return self.info
        status = RunStatus(status)
        for child in self._children:
            if not child.ended:
                child.end(status)
        if self._sampler is not None:
            self._sampler.stop()
        self._stop.set()
        self._flusher.join(timeout=self.flush_interval + 5)
        self.flush()
        self.info = self._service.end_run(self.id, status)
        self.ended = True
        atexit.unregister(self._at_exit)
        if self._owns_service:
            self._service.close()
        return self.info

    def _at_exit(self) -> None:
        if not self.ended:
            try:
                self.end(RunStatus.FINISHED)
            except Exception as exc:
                logger.error("run %s: could not be ended at exit: %s", self.id, exc)

    def data(self) -> RunData:
        """The run as stored (after writing the buffered metrics)."""
        self.flush()
        return self._service.get_run(self.id)

    def __enter__(self) -> Run:
        self._token = _ACTIVE.set((*_ACTIVE.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        elif isinstance(exc, SystemExit) and exc.code in (0, None):
            status = RunStatus.FINISHED
        else:
            status = RunStatus.FAILED
        try:
            self.end(status)
        finally:
            if self._token is not None:
                _ACTIVE.reset(self._token)
                self._token = None

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r}, status={self.info.status.value!r})"


def active_run() -> Run | None:
    """The innermost run started with `with vigil.start_run(...)` in this context, if any."""
    stack = _ACTIVE.get()
    return stack[-1] if stack else None


def open_backend(
    *,
    store_url: str | None = None,
    artifacts_url: str | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout: float = 30.0,
) -> tuple[TrackingBackend, bool]:
    """Where runs are written: an opened `store`, the server at `url`, or the embedded store
    (`store_url`, default from VIGIL_STORE_URL). The flag says whether the caller owns it (and
    closes it)."""
    if store is not None:
        return TrackingService(store), False
    if url is not None:
        from vigil.client.transport import HttpTransport

        transport = HttpTransport(url, token, timeout=timeout, retries=3, backoff=0.2)
        return RemoteTracking(transport), True
    from vigil.config import StoreSettings
    from vigil.store.core import Store as StoreClass

    settings = StoreSettings()
    opened = StoreClass.open(
        store_url or settings.store_url, artifacts_url or settings.artifacts_url
    )
    return TrackingService(opened), True


def start_run(
    experiment: str = "Default",
    name: str | None = None,
    *,
    store_url: str | None = None,
    artifacts_url: str | None = None,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout: float = 30.0,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    capture: bool = True,
    capture_git_info: bool = True,
    capture_environment_info: bool = True,
    system_metrics: bool = True,
    system_metrics_interval: float = 5.0,
    flush_interval: float = 1.0,
) -> Run:
    """Start a run in `experiment` (created when missing) on the embedded store
    (`store_url`, default from VIGIL_STORE_URL or `sqlite:///.vigil/vigil.db`), or on an opened
    `store` (which the run leaves open), or on the Vigil server at `url` with an API `token`
    of scope write (the server records the token's owner as the run's owner).

    `nested=True` inside another run makes this run its child. `capture=False` turns off all
    automatic capture; `capture_git_info`, `capture_environment_info` and `system_metrics` turn
    off one part each.
    """
    if flush_interval <= 0:
        raise InvalidInputError(f"flush_interval must be positive seconds, got {flush_interval}")
    if system_metrics_interval <= 0:
        raise InvalidInputError(
            f"system_metrics_interval must be positive seconds, got {system_metrics_interval}"
        )
    parent = active_run()
    if parent is not None and not nested:
        raise InvalidInputError(
            f"run {parent.id} is active; pass nested=True to start a child run, or end it first"
        )
    service: TrackingBackend
    if parent is not None:
        service, owns = parent.service, False
    else:
        service, owns = open_backend(
            store_url=store_url,
            artifacts_url=artifacts_url,
            store=store,
            url=url,
            token=token,
            timeout=timeout,
        )
    try:
        owner = current_user()
        exp = service.ensure_experiment(experiment, owner=owner)
        run_tags = {k: str(v) for k, v in (tags or {}).items()}
        if parent is not None:
            run_tags["vigil.parent_run_id"] = parent.id
        info = service.create_run(
            exp.id,
            name=name or "",
            owner=owner,
            parent_id=parent.id if parent is not None else None,
            tags=run_tags,
        )
    except BaseException:
        if owns:
            service.close()
        raise
    run = Run(service, info, flush_interval=flush_interval, owns_service=owns, parent=parent)
    if parent is not None:
        parent._children.append(run)
    if capture and parent is None:  # a child runs in its parent's process: captured there
        run.capture(git=capture_git_info, environment=capture_environment_info)
        if system_metrics:
            run.start_system_metrics(system_metrics_interval)
    return run


__all__ = ["Run", "active_run", "current_user", "now_ms", "open_backend", "start_run"]
