"""`client.performance`: realized metrics per window, metrics estimated without labels (CBPE
or DLE),
the segments behind a change, and fairness across groups. Each returns the report's JSON (times
as ISO 8601 strings), the same in both modes as `GET /api/v1/models/{name}/performance...`.

>>> client.performance.realized("churn", window="day")["windows"]        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Protocol

from vigil.api.routes.performance import Report
from vigil.client.areas.common import FormerMethod
from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    from vigil.api.client import VigilApi
    from vigil.store.core import Store

_OPTIONS = {"task", "positive_class", "threshold"}
_EXTRA: dict[str, set[str]] = {"fairness": {"min_rows"}, "segments": {"cls", "columns"}}
_QUERY_NAMES = {"cls": "class", "columns": "column"}


class PerformanceArea(Protocol):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: the former `Client` method of this name (see `FormerMethod`)."""

    def realized(
        self,
        model: str,
        *,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        segment: str | None = None,
        **options: Any,
    ) -> dict[str, Any]: ...
    def estimated(
        self,
        model: str,
        *,
        reference_start: dt.datetime,
        reference_end: dt.datetime,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        segment: str | None = None,
        **options: Any,
    ) -> dict[str, Any]: ...
    def fairness(
        self,
        model: str,
        attribute: str,
        *,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        **options: Any,
    ) -> dict[str, Any]: ...
    def segments(
        self,
        model: str,
        *,
        baseline_start: dt.datetime,
        baseline_end: dt.datetime,
        start: dt.datetime,
        end: dt.datetime,
        metric: str = "accuracy",
        window: str = "day",
        version: str | None = None,
        **options: Any,
    ) -> dict[str, Any]: ...


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        text: str = value.astimezone(dt.UTC).isoformat()
        return text.replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Reports(FormerMethod, ABC):
    """The four reports' arguments, written once; each side says how one report is made."""

    AREA = "performance"
    FORMER = "realized"

    @abstractmethod
    def _report(
        self, report: Report, model: str, params: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]: ...

    def _checked(
        self, report: Report, model: str, params: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        allowed = _OPTIONS | _EXTRA.get(report, set())
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise InvalidInputError(
                f"unknown option(s) {unknown}; the options are {sorted(allowed)}", options=unknown
            )
        return self._report(report, model, params, options)

    def realized(
        self,
        model: str,
        *,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        segment: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Realized metrics and label coverage per window (`options`: task, positive_class,
        threshold)."""
        params = {"window": window, "start": start, "end": end, "version": version}
        return self._checked("realized", model, {**params, "segment": segment}, options)

    def estimated(
        self,
        model: str,
        *,
        reference_start: dt.datetime,
        reference_end: dt.datetime,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        segment: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Metrics estimated without labels, learned on the labelled reference period: CBPE for a
        classifier (its calibrated scores), DLE for a regression model (its `row_features`)."""
        params = {
            "reference_start": reference_start,
            "reference_end": reference_end,
            "window": window,
            "start": start,
            "end": end,
            "version": version,
            "segment": segment,
        }
        return self._checked("estimated", model, params, options)

    def fairness(
        self,
        model: str,
        attribute: str,
        *,
        window: str = "day",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        version: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Fairness across the groups of segment column `attribute`, per window."""
        params = {"attribute": attribute, "window": window, "start": start, "end": end}
        return self._checked("fairness", model, {**params, "version": version}, options)

    def segments(
        self,
        model: str,
        *,
        baseline_start: dt.datetime,
        baseline_end: dt.datetime,
        start: dt.datetime,
        end: dt.datetime,
        metric: str = "accuracy",
        window: str = "day",
        version: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The segments that explain a change of `metric` between two periods, and the features
        whose drift correlates with it."""
        params = {
            "baseline_start": baseline_start,
            "baseline_end": baseline_end,
            "start": start,
            "end": end,
            "metric": metric,
            "window": window,
            "version": version,
        }
        return self._checked("segments", model, params, options)


class LocalPerformance(_Reports):
    """The reports computed here, on the embedded store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _report(
        self, report: Report, model: str, params: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        from vigil.analysis.performance.columns import PerformanceOptions
        from vigil.performance import breakdown, service

        functions: dict[str, Any] = {
            "realized": service.realized,
            "estimated": service.estimated,
            "fairness": breakdown.fairness_report,
            "segments": breakdown.segment_report,
        }
        kwargs = {k: v for k, v in params.items() if v is not None}
        if "segment" in params:
            kwargs["segment"] = params["segment"] or ""
        kwargs.update({k: v for k, v in options.items() if k not in _OPTIONS})
        try:
            performance = PerformanceOptions(**{k: v for k, v in options.items() if k in _OPTIONS})
        except ValueError as exc:
            raise InvalidInputError(f"invalid performance options {options}: {exc}") from None
        result = functions[report](self.store, model, options=performance, **kwargs)
        jsonable: dict[str, Any] = json.loads(json.dumps(result.to_dict(), default=_iso))
        return jsonable


class RemotePerformance(_Reports):
    """The reports computed by a Vigil server."""

    def __init__(self, api: VigilApi) -> None:
        self.api = api

    def _report(
        self, report: Report, model: str, params: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        query = {k: (_iso(v) if isinstance(v, dt.datetime) else v) for k, v in params.items()}
        query.update({_QUERY_NAMES.get(k, k): v for k, v in options.items()})
        return self.api.performance.report(report, model, query)
