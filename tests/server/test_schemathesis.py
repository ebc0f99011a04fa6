"""Schemathesis over the live server's own OpenAPI document: no 5xx, no answer outside its schema.

The schema is the app's `openapi()` (so pytest can make one test per operation and spread them
over xdist workers); `test_the_live_document_is_the_one_tested` checks that the running server
serves exactly this document. Every generated request is sent with a read, a write and an admin
token, in that order (a write route refuses the read token before the write token changes
anything). A bounded number of examples per operation keeps the run inside `make test`'s budget.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.live_api import SCOPES, LiveApi, live_api
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE
from vigil.server import Settings, create_app

__all__ = ["live_api"]

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 5  # per operation in the fuzzing phase; the coverage phase adds its own cases
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def _document() -> dict[str, Any]:
    return create_app(Settings(store_url="sqlite://", artifacts_url="/nonexistent")).openapi()


SCHEMA = schemathesis.openapi.from_dict(
    _document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 14,
            "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
        }
    ),
)


@schemathesis.serializer(CONTENT_TYPE)
def _raw_batch(_: schemathesis.SerializationContext, value: Any) -> bytes:
    """The ingestion routes' body is bytes (a msgpack batch): sent as generated, hostile."""
    return value if isinstance(value, bytes) else str(value).encode()


def test_the_live_document_is_the_one_tested(live_api: LiveApi) -> None:
    live = live_api.http.get("/openapi.json", headers=live_api.headers(Scope.READ))
    assert live.status_code == 200
    assert live.json() == SCHEMA.raw_schema
    paths = live.json()["paths"]
    assert any(p.startswith("/api/2.0/mlflow/") for p in paths)
    assert any(p.startswith("/ajax-api/2.0/mlflow/") for p in paths)
    assert any(p.startswith("/api/2.0/mlflow-artifacts/") for p in paths)


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_in_its_schema(
    case: schemathesis.Case, live_api: LiveApi
) -> None:
    if case.path_parameters and case.path_parameters.get("token_id") in live_api.token_ids:
        case.path_parameters["token_id"] = "not-ours"  # keep the test's own tokens alive
    for scope in SCOPES:
        response = case.call(base_url=live_api.live.url, headers=live_api.headers(scope))
        case.validate_response(response, checks=CHECKS)
