"""`client.kpis`: business KPI values (logged with `client.log_kpi`), their series per version
and window, and version-against-version comparisons.

>>> client.kpis.series("revenue", "churn", window="day").points       # doctest: +SKIP
>>> client.kpis.compare("revenue", "churn", a="3", b="4").p_value      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from vigil.analysis.kpi import KpiComparison, KpiSeries
from vigil.api.specs import KpiOut
from vigil.client.areas.common import FormerMethod, params

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.store.core import Store


class KpisArea(Protocol):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: the former `Client` method of this name (see `FormerMethod`)."""

    def list(self, *, name: str | None = None, model: str | None = None) -> list[KpiOut]: ...
    def series(
        self,
        name: str,
        model: str,
        *,
        version: str | None = None,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiSeries: ...
    def compare(
        self,
        name: str,
        model: str,
        *,
        a: str,
        b: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiComparison: ...


class _Former(FormerMethod):
    AREA = "kpis"
    FORMER = "list"


class LocalKpis(_Former):
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, *, name: str | None = None, model: str | None = None) -> list[KpiOut]:
        """The logged KPI values (of one KPI, of one model), oldest first."""
        from vigil.ingestion import service

        with self.store.session() as session:
            return service.list_kpis(session, name=name, model=model)

    def series(
        self,
        name: str,
        model: str,
        *,
        version: str | None = None,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiSeries:
        """KPI `name` of `model` per version (or one) and window: count, sum, mean, std, ..."""
        from vigil import kpi

        with self.store.session() as session:
            return kpi.series(
                session, name, model, version=version, window=window, start=start, end=end
            )

    def compare(
        self,
        name: str,
        model: str,
        *,
        a: str,
        b: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiComparison:
        """KPI `name` of `model`'s version `b` against version `a` over [start, end):
        difference, relative change and Welch's t-test p-value."""
        from vigil import kpi

        with self.store.session() as session:
            return kpi.compare(session, name, model, a, b, start=start, end=end)


class RemoteKpis(_Former):
    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def list(self, *, name: str | None = None, model: str | None = None) -> list[KpiOut]:
        """The logged KPI values (of one KPI, of one model), oldest first."""
        return self.api.kpis.all(params(name=name, model=model))

    def series(
        self,
        name: str,
        model: str,
        *,
        version: str | None = None,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiSeries:
        """KPI `name` of `model` per version (or one) and window: count, sum, mean, std, ..."""
        query = params(name=name, model=model, version=version, window=window, start=start, end=end)
        return self.api.kpis.series(query)

    def compare(
        self,
        name: str,
        model: str,
        *,
        a: str,
        b: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> KpiComparison:
        """KPI `name` of `model`'s version `b` against version `a` over [start, end)."""
        query = params(name=name, model=model, a=a, b=b, start=start, end=end)
        return self.api.kpis.compare(query)
