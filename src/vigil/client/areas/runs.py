"""`client.runs`: tracking runs read back, searched, and followed while they run.

>>> for page in client.runs.watch(run_id):                               # doctest: +SKIP
...     print([(p.step, p.key, p.value) for p in page.metrics])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from vigil.api.tracking import MetricPoint, RunData, RunsPage, SearchRunsIn

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.lifecycle.live import LivePage
    from vigil.store.core import Store
    from vigil.tracking.service import TrackingService


class RunsArea(Protocol):
    def get(self, run_id: str) -> RunData: ...
    def search(
        self,
        experiment: str | int | Sequence[str | int] | None = None,
        filter: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        actor: str | None = None,
    ) -> RunsPage: ...
    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[MetricPoint]: ...
    def watch(
        self, run_id: str, *, interval: float = 1.0, timeout: float | None = None
    ) -> Iterator[LivePage]: ...


def _experiments(
    experiment: str | int | Sequence[str | int] | None,
) -> list[str | int] | None:
    if experiment is None:
        return None
    if isinstance(experiment, str | int):
        return [experiment]
    return list(experiment)


class LocalRuns:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _tracking(self) -> TrackingService:
        from vigil.tracking.service import TrackingService

        return TrackingService(self.store)

    def get(self, run_id: str) -> RunData:
        """A run: its info, latest metrics, params and tags."""
        return self._tracking().get_run(run_id)

    def search(
        self,
        experiment: str | int | Sequence[str | int] | None = None,
        filter: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        actor: str | None = None,
    ) -> RunsPage:
        """Runs of `experiment` (a name or id, several, or None for all) matching `filter`
        (see `vigil.search_runs`)."""
        return self._tracking().search_runs(
            _experiments(experiment),
            filter,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            actor=actor,
        )

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[MetricPoint]:
        return self._tracking().metric_history(run_id, key, max_points)

    def watch(
        self, run_id: str, *, interval: float = 1.0, timeout: float | None = None
    ) -> Iterator[LivePage]:
        """Pages of the run's new metric and system-metric points until it ends."""
        from vigil.lifecycle.live import follow, store_fetch

        return follow(store_fetch(self.store, run_id), interval=interval, timeout=timeout)


class RemoteRuns:
    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def get(self, run_id: str) -> RunData:
        """A run: its info, latest metrics, params and tags."""
        return self.api.runs.get(run_id)

    def search(
        self,
        experiment: str | int | Sequence[str | int] | None = None,
        filter: str | None = None,
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        actor: str | None = None,
    ) -> RunsPage:
        """Runs of `experiment` (a name or id, several, or None for all) matching `filter`
        (see `vigil.search_runs`)."""
        body = SearchRunsIn(
            experiments=_experiments(experiment),
            filter=filter,
            order_by=list(order_by or []),
            max_results=max_results,
            page_token=page_token,
            actor=actor,
        )
        return self.api.runs.search(body)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[MetricPoint]:
        return self.api.runs.metric_history(run_id, key, max_points)

    def watch(
        self, run_id: str, *, interval: float = 1.0, timeout: float | None = None
    ) -> Iterator[LivePage]:
        """Pages of the run's new metric and system-metric points until it ends."""
        from vigil.lifecycle.live import follow, http_fetch

        return follow(http_fetch(self.api, run_id), interval=interval, timeout=timeout)
