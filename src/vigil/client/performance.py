"""The client's performance calls: over HTTP to the server's endpoints, or to `service` on the
embedded store. Both return the endpoint's JSON (times as ISO 8601 strings)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from vigil.analysis.performance.columns import PerformanceOptions
from vigil.errors import InvalidInputError
from vigil.performance import breakdown, service

_OPTIONS = {"task", "positive_class", "threshold"}
_EXTRA = {"fairness_report": {"min_rows"}, "segment_report": {"cls", "columns"}}
_QUERY_NAMES = {"cls": "class", "columns": "column"}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "realized": service.realized,
    "estimated": service.estimated,
    "fairness_report": breakdown.fairness_report,
    "segment_report": breakdown.segment_report,
}


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        text: str = value.astimezone(dt.UTC).isoformat()
        return text.replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def call(
    transport: Any,
    model: str,
    path: str,
    function: str,
    params: dict[str, Any],
    options: dict[str, Any],
) -> dict[str, Any]:
    allowed = _OPTIONS | _EXTRA.get(function, set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {unknown}; the options are {sorted(allowed)}", options=unknown
        )
    store = getattr(transport, "store", None)
    if store is None:
        query = {k: (_iso(v) if isinstance(v, dt.datetime) else v) for k, v in params.items()}
        query.update({_QUERY_NAMES.get(k, k): v for k, v in options.items()})
        query = {k: v for k, v in query.items() if v is not None}
        response = transport._request(
            "GET", f"/api/v1/models/{quote(model, safe='')}/{path}", params=query
        )
        result: dict[str, Any] = response.json()
        return result
    kwargs = {k: v for k, v in params.items() if v is not None}
    if "segment" in params:
        kwargs["segment"] = params["segment"] or ""
    kwargs.update({k: v for k, v in options.items() if k not in _OPTIONS})
    try:
        performance = PerformanceOptions(**{k: v for k, v in options.items() if k in _OPTIONS})
    except ValueError as exc:
        raise InvalidInputError(f"invalid performance options {options}: {exc}") from None
    report = _FUNCTIONS[function](store, model, options=performance, **kwargs)
    jsonable: dict[str, Any] = json.loads(json.dumps(report.to_dict(), default=_iso))
    return jsonable
