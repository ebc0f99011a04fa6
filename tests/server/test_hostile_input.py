"""Bad input of every kind a hostile client sends is a 4xx JSON error naming the field, against a
real server: integers past 64 bits, deep JSON, deep filters, times out of range, NaN and
infinities; a request that can never succeed is no 503 with Retry-After; no error answer shows
the server's own paths."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import StatementError

from tests.server.live_api import LiveApi, live_api
from vigil.api.specs import Scope
from vigil.store.db_errors import classify, is_bind_overflow

__all__ = ["live_api"]

BIG = 2**64  # past every 64-bit integer, signed or not


def _send(api: LiveApi, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {**api.headers(Scope.ADMIN), **kwargs.pop("headers", {})}
    return api.http.request(method, path, headers=headers, **kwargs)


def _refused(response: httpx.Response, *names: str) -> str:
    """The error message of a 4xx JSON answer that names each of `names`."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert "Retry-After" not in response.headers
    body = response.json()
    message = str(body["message"])
    for name in names:
        assert name in message, (name, message[:500])
    return message


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", f"/api/v1/alerts/{BIG}", "alert_id"),
        ("POST", f"/api/v1/alerts/{-BIG}/ack", "alert_id"),
        ("GET", f"/api/v1/registry/models/churn/versions/{BIG}", "version"),
        ("GET", f"/api/v1/events?after={BIG}", "after"),
        ("GET", f"/api/v1/runs/x/metrics/live?since_step={BIG}", "since_step"),
    ],
)
def test_an_integer_past_64_bits_in_the_url_is_a_422_naming_it(
    live_api: LiveApi, method: str, path: str, name: str
) -> None:
    _refused(_send(live_api, method, path), name)


@pytest.mark.parametrize(
    ("path", "body", "name"),
    [
        ("/api/v1/runs", {"experiment": BIG}, "body.experiment"),
        ("/api/v1/runs/search", {"experiments": [1, -BIG]}, "body.experiments[1]"),
        (
            "/api/2.0/mlflow/runs/search",
            {"experiment_ids": ["0"], "max_results": BIG},
            "max_results",
        ),
        ("/api/2.0/mlflow/runs/create", {"experiment_id": "0", "start_time": BIG}, "start_time"),
        ("/api/2.0/mlflow/runs/create", {"experiment_id": "0", "start_time": 1e300}, "start_time"),
    ],
)
def test_an_integer_past_64_bits_in_a_body_is_a_4xx_naming_it(
    live_api: LiveApi, path: str, body: dict[str, Any], name: str
) -> None:
    _refused(_send(live_api, "POST", path, json=body), name)


def test_an_experiment_id_no_experiment_can_have_is_not_found(live_api: LiveApi) -> None:
    response = _send(live_api, "GET", f"/api/2.0/mlflow/experiments/get?experiment_id={BIG}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [100, 1000, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/runs/search", "/api/2.0/mlflow/runs/search"])
def test_deeply_nested_json_is_a_4xx_naming_the_body(
    live_api: LiveApi, path: str, depth: int
) -> None:
    response = _send(
        live_api,
        "POST",
        path,
        content=_nested(depth).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert "nests deeper than 64 levels" in _refused(response, "body")


def test_json_at_the_depth_limit_is_read(live_api: LiveApi) -> None:
    body = '{"experiment_ids": ["0"], "x": ' + "[" * 63 + "]" * 63 + "}"
    response = _send(
        live_api,
        "POST",
        "/api/2.0/mlflow/runs/search",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text[:300]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/runs/search", {"filter": "(" * 1000 + "metrics.auc > 1" + ")" * 1000}),
        (
            "/api/2.0/mlflow/runs/search",
            {"experiment_ids": ["0"], "filter": "(" * 1000 + "metrics.auc > 1" + ")" * 1000},
        ),
        (
            "/api/2.0/mlflow/runs/search",
            {"experiment_ids": ["0"], "filter": " and ".join(["metrics.auc > 1"] * 1500)},
        ),
        (
            "/api/2.0/mlflow/registered-models/search",
            {"filter": " AND ".join(["name = 'a'"] * 1500)},
        ),
    ],
)
def test_a_deeply_nested_or_huge_filter_is_a_4xx_naming_the_filter(
    live_api: LiveApi, path: str, body: dict[str, Any]
) -> None:
    method = "GET" if path.endswith("registered-models/search") else "POST"
    kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
    _refused(_send(live_api, method, path, **kwargs), "filter")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "name"),
    [
        (
            "GET",
            "/api/v1/models/churn/windows",
            {"params": {"start": "10000-01-01T00:00:00Z"}},
            "start",
        ),
        ("POST", "/api/v1/runs", {"json": {"experiment": "e", "start_ms": -(10**17)}}, "start_ms"),
        (
            "POST",
            "/api/v1/runs",
            {"json": {"experiment": "e", "start_ms": 253402300800000}},
            "start_ms",
        ),
        (
            "POST",
            "/api/2.0/mlflow/runs/create",
            {"json": {"experiment_id": "0", "start_time": -(10**17)}},
            "start_time",
        ),
        (
            "GET",
            "/api/v1/runs/x/metrics/live",
            {"params": {"since_time": 10**17}},
            "since_time",
        ),
    ],
)
def test_a_time_out_of_range_is_a_4xx_naming_it(
    live_api: LiveApi, method: str, path: str, kwargs: dict[str, Any], name: str
) -> None:
    _refused(_send(live_api, method, path, **kwargs), name)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize(
    ("path", "template", "name"),
    [
        ("/api/v1/kpis", '{"name": "revenue", "value": %s}', "body.value"),
        (
            "/api/v1/registry/models/churn/versions",
            '{"upload_id": "0", "format": "file", "metrics": {"auc": %s}}',
            "body.metrics.auc",
        ),
        (
            "/api/2.0/mlflow/runs/log-metric",
            '{"run_id": "x", "key": "auc", "value": 1, "timestamp": 1, "step": %s}',
            "body.step",
        ),
    ],
)
def test_nan_and_infinities_in_json_are_a_4xx_naming_the_field(
    live_api: LiveApi, path: str, template: str, name: str, literal: str
) -> None:
    response = _send(
        live_api,
        "POST",
        path,
        content=(template % literal).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert "not a finite number" in _refused(response, name)


def test_a_request_that_can_never_succeed_gets_no_503_and_no_retry_after(
    live_api: LiveApi,
) -> None:
    """Filters the store would refuse (an SQL expression tree past SQLite's depth of 1000) used to
    be answered 503 + Retry-After, inviting the client to send it again forever."""
    for terms in (1200, 3000):
        body = {"experiment_ids": ["0"], "filter": " or ".join(["metrics.auc > 1"] * terms)}
        response = _send(live_api, "POST", "/api/2.0/mlflow/runs/search", json=body)
        assert response.status_code != 503
        _refused(response, "filter")


def _statement_error(sql: str, connection: Any) -> StatementError:
    with pytest.raises(StatementError) as caught:
        connection.execute(text(sql))
    return caught.value


def test_store_errors_are_contention_only_when_a_retry_can_succeed(tmp_path: Any) -> None:
    """Only contention earns a 503 + Retry-After; a statement the store refuses is the request's
    fault (4xx), anything else the server's (500)."""
    path = tmp_path / "db.sqlite"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with engine.connect() as connection:
        deep = "SELECT " + " AND ".join(["1"] * 1200)
        assert classify(_statement_error(deep, connection)) == "request"
        with pytest.raises(OverflowError) as overflow:
            connection.execute(text("SELECT :v"), {"v": 2**64})
        assert is_bind_overflow(overflow.value)
        assert not is_bind_overflow(OverflowError("date value out of range"))
        assert classify(_statement_error("SELECT * FROM missing_table", connection)) == "fault"
    engine.dispose()
    blocker = sqlite3.connect(path)
    blocker.execute("CREATE TABLE t (x)")
    blocker.commit()
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with engine.connect() as connection:
            assert classify(_statement_error("SELECT * FROM t", connection)) == "contention"
    finally:
        blocker.rollback()
        blocker.close()
    engine.dispose()


def _bodies_of_errors_that_touch_files(api: LiveApi) -> list[httpx.Response]:
    admin = api.headers(Scope.ADMIN)
    return [
        api.http.get("/api/2.0/mlflow-artifacts/artifacts/0/none/artifacts/x", headers=admin),
        api.http.get("/api/2.0/mlflow-artifacts/artifacts/..%2F..%2Fetc%2Fpasswd", headers=admin),
        api.http.put(
            "/api/2.0/mlflow-artifacts/artifacts/a/..%2F..%2F..%2Fescape",
            headers=admin,
            content=b"x",
        ),
        api.http.get("/api/v1/runs/none/artifacts/file", params={"path": "x"}, headers=admin),
        api.http.get("/api/v1/registry/models/churn/versions/1/artifact", headers=admin),
        api.http.post(
            "/api/2.0/mlflow/model-versions/create",
            headers=admin,
            json={"name": "churn", "source": "mlflow-artifacts:/0/none/artifacts/model"},
        ),
        api.http.post(
            "/api/2.0/mlflow/model-versions/create",
            headers=admin,
            json={"name": "churn", "source": str(api.root / "artifacts")},
        ),
    ]


def test_error_answers_never_show_the_servers_paths(live_api: LiveApi) -> None:
    artifacts = str((live_api.root / "artifacts").resolve())
    store = str(live_api.root / "store.db")
    answers = _bodies_of_errors_that_touch_files(live_api)
    errors = [a for a in answers if a.status_code >= 400]
    assert len(errors) >= 5, [(a.status_code, a.text[:200]) for a in answers]
    for answer in errors:
        assert answer.status_code < 500, answer.text[:300]
        assert artifacts not in answer.text, answer.text[:500]
        assert store not in answer.text, answer.text[:500]
        assert str(live_api.root) not in answer.text, answer.text[:500]


def test_an_mlflow_parameter_refused_by_validation_is_named(live_api: LiveApi) -> None:
    response = _send(live_api, "GET", "/api/2.0/mlflow/logged-models/" + "m" * 100)
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    _refused(response, "path.model_id")
