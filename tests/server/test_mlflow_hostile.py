"""The MLflow routes read their fields from the query string and a free-form JSON body, which the
OpenAPI document cannot describe field by field; so beside schemathesis, hypothesis sends each of
them requests built from MLflow's own field names with hostile values. No answer is a 5xx, and
every error is MLflow's JSON error (`error_code`, `message`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.live_api import SCOPES, LiveApi, live_api
from vigil.server import Settings, create_app

__all__ = ["live_api"]

pytestmark = pytest.mark.slow


def _mlflow_routes() -> list[tuple[str, str]]:
    """(method, path) of every MLflow route without path parameters (schemathesis fills those)."""
    app = create_app(Settings(store_url="sqlite://", artifacts_url="/nonexistent"))
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")) and "{" not in path
        for method in operations
    )


ROUTES = _mlflow_routes()
FIELDS = [
    "alias",
    "description",
    "end_step",
    "end_time",
    "experiment_id",
    "experiment_ids",
    "experiment_name",
    "filter",
    "key",
    "max_results",
    "metric_key",
    "model_id",
    "name",
    "new_name",
    "order_by",
    "page_token",
    "params",
    "run_id",
    "run_ids",
    "run_name",
    "run_view_type",
    "source",
    "stage",
    "start_step",
    "start_time",
    "status",
    "step",
    "tags",
    "timestamp",
    "value",
    "version",
    "metrics",
    "datasets",
    "models",
    "view_type",
]

_HUGE = st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 1e300, -1e300, 1e-300])
_SPECIAL = st.sampled_from(
    ["", "0", "1", "-1", "NaN", "Infinity", "-Infinity", "9" * 40, "None", "churn", "exp"]
)
_FILTERS = st.sampled_from(
    [
        "(" * 500 + "metrics.auc > 1" + ")" * 500,
        " and ".join(["metrics.auc > 1"] * 400),
        "attributes.start_time > 1e999",
        "attributes.start_time > 99999999999999999999999",
        "name LIKE '" + "%" * 5000 + "'",
        "tags.`" + "a" * 1000 + "` = 'x'",
        "metrics.auc IN (" + ", ".join(["1"] * 3000) + ")",
        "name = 'churn' AND " * 100 + "name = 'x'",
    ]
)
_SCALARS = st.one_of(
    _HUGE,
    _SPECIAL,
    _FILTERS,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["key", "value", "name", "step", "timestamp"]), inner, max_size=4
        )
    ),
    max_leaves=8,
)
_PAYLOADS = st.dictionaries(st.sampled_from(FIELDS), _VALUES, max_size=6)


def _query(payload: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in payload.items() if not isinstance(v, dict | list)}


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), payload=_PAYLOADS, scope=st.sampled_from(SCOPES))
def test_no_mlflow_route_answers_a_5xx_to_hostile_fields(
    live_api: LiveApi, route: tuple[str, str], payload: dict[str, Any], scope: Any
) -> None:
    method, path = route
    headers = live_api.headers(scope)
    if method == "GET":
        response = live_api.http.get(path, params=_query(payload), headers=headers)
    else:
        response = live_api.http.request(method, path, json=payload, headers=headers)
    assert response.status_code < 500, (method, path, payload, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error_code", "message"}, body
