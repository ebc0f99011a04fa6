"""`vigil.search_runs` and `vigil.compare_runs` on the embedded store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from vigil.api.tracking import RunComparison, RunData, RunInfo, RunsPage, SearchRunsIn
from vigil.errors import InvalidInputError
from vigil.store.core import Store
from vigil.tracking.service import TrackingService

if TYPE_CHECKING:
    from vigil.client.tracking.run import Run


@contextmanager
def _service(
    store: Store | None, store_url: str | None, artifacts_url: str | None
) -> Iterator[TrackingService]:
    if store is not None:
        yield TrackingService(store)
        return
    from vigil.config import StoreSettings

    settings = StoreSettings()
    opened = Store.open(store_url or settings.store_url, artifacts_url or settings.artifacts_url)
    try:
        yield TrackingService(opened)
    finally:
        opened.close()


def search_runs(
    experiment: str | int | Sequence[str | int] | None = None,
    filter: str | None = None,
    *,
    order_by: Sequence[str] | None = None,
    max_results: int = 1000,
    page_token: str | None = None,
    store: Store | None = None,
    store_url: str | None = None,
    artifacts_url: str | None = None,
    url: str | None = None,
    token: str | None = None,
    actor: str | None = None,
) -> RunsPage:
    """Runs of `experiment` (a name or id, several, or None for all) matching `filter`.

    >>> page = vigil.search_runs("churn", "metrics.auc > 0.8 and params.model in ('xgb', 'lgbm')",
    ...                          order_by=["metrics.auc DESC"], max_results=10)  # doctest: +SKIP
    >>> page.to_pandas()                                                        # doctest: +SKIP

    The filter language is described in `vigil.tracking.search`. Pass `page.next_page_token`
    back as `page_token` for the next page. With `url` (and `token`), the search runs on that
    Vigil server. `actor` keeps the runs that person started (a teammate's token owner, or
    an OS user name in local mode).
    """
    experiments: list[str | int] | None
    if experiment is None:
        experiments = None
    elif isinstance(experiment, str | int):
        experiments = [experiment]
    else:
        experiments = list(experiment)
    if url is not None:
        from vigil.client.transport import HttpTransport

        transport = HttpTransport(url, token, timeout=30.0, retries=3, backoff=0.2)
        try:
            return transport.search_runs(
                SearchRunsIn(
                    experiments=experiments,
                    filter=filter,
                    order_by=list(order_by or []),
                    max_results=max_results,
                    page_token=page_token,
                    actor=actor,
                )
            )
        finally:
            transport.close()
    with _service(store, store_url, artifacts_url) as service:
        return service.search_runs(
            experiments,
            filter,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            actor=actor,
        )


def compare_runs(
    runs: Iterable[str | RunData | RunInfo | Run] | RunsPage,
    *,
    store: Store | None = None,
    store_url: str | None = None,
    artifacts_url: str | None = None,
) -> RunComparison:
    """Metrics side by side and the params that differ between the runs: ids, or the runs
    themselves (`search_runs(...).runs`, a page, or `Run` objects).

    >>> vigil.compare_runs(vigil.search_runs("churn"))               # doctest: +SKIP
    """
    items = runs.runs if isinstance(runs, RunsPage) else runs
    run_ids = [run_id_of(item) for item in items]
    with _service(store, store_url, artifacts_url) as service:
        return service.compare_runs(run_ids)


def run_id_of(item: object) -> str:
    """The id of a run given as its id, its `RunData`, its `RunInfo` or a `Run`."""
    if isinstance(item, str):
        return item
    if isinstance(item, RunData):
        return item.info.id
    if isinstance(item, RunInfo):
        return item.id
    run_id = getattr(item, "id", None)  # a vigil.Run (imported lazily: it pulls the store in)
    if isinstance(run_id, str):
        return run_id
    raise InvalidInputError(
        f"a run is its id or a run object (RunData, RunInfo, Run), got {type(item).__name__}"
    )
