"""The API carries label coverage: a model's `min_label_coverage` round-trips (left out of the JSON
at its default), and every realized window says whether it is complete, why not, and which
metrics are below their minimum (docs/performance.md, "Coverage and complete windows")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from tests.performance.conftest import DAY, T0, binary_day, client_for, create_binary, log_day
from tests.server.conftest import auth
from vigil.api.specs import Scope
from vigil.store.core import Store

WINDOW_KEYS = {
    "start",
    "end",
    "n_predictions",
    "n_labelled",
    "coverage",
    "complete",
    "incomplete_reason",
    "min_label_coverage",
    "below_minimum",
}


def test_min_label_coverage_round_trips_through_the_api(
    api: TestClient, tokens: dict[Scope, str]
) -> None:
    headers = auth(tokens[Scope.WRITE])
    body = {"name": "strict", "features": ["x"], "min_label_coverage": 0.8}
    assert api.post("/api/v1/models", json=body, headers=headers).status_code == 201
    assert api.get("/api/v1/models/strict", headers=headers).json()["min_label_coverage"] == 0.8
    plain = {"name": "plain", "features": ["x"]}
    assert api.post("/api/v1/models", json=plain, headers=headers).status_code == 201
    assert "min_label_coverage" not in api.get("/api/v1/models/plain", headers=headers).json()
    bad = {"name": "bad", "features": ["x"], "min_label_coverage": 1.5}
    refused = api.post("/api/v1/models", json=bad, headers=headers)
    assert refused.status_code == 422
    assert "min_label_coverage" in refused.text


def test_realized_and_estimated_windows_say_whether_they_are_complete(
    api: TestClient, tokens: dict[Scope, str], server_store: Store, tmp_path: Path
) -> None:
    client = client_for(server_store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(21)
    full, partial = binary_day(rng, 0, 600), binary_day(rng, 1, 5468)
    log_day(client, full)
    log_day(client, partial)
    client.log_labels("churn", list(full["id"]), full["label"])  # type: ignore[call-overload]
    client.log_labels("churn", list(partial["id"])[:9], partial["label"][:9])  # type: ignore[call-overload,index]
    client.flush()
    headers = auth(tokens[Scope.READ])
    realized = api.get("/api/v1/models/churn/performance", headers=headers).json()
    first, last = realized["windows"]
    assert set(first) >= WINDOW_KEYS
    assert (first["complete"], first["incomplete_reason"], first["below_minimum"]) == (
        True,
        None,
        {},
    )
    assert first["min_label_coverage"] == 0.5
    assert last["complete"] is False
    assert last["n_labelled"] == 9
    assert last["incomplete_reason"] == (
        "9 of 5,468 predictions labelled (0.2%), below the model's min_label_coverage 50%"
    )
    assert set(last["below_minimum"]) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "log_loss",
    }
    assert last["below_minimum"]["accuracy"] == "9 labelled rows, fewer than 30"
    assert last["metrics"]["n"] == 9  # the value is kept, flagged
    estimated = api.get(
        "/api/v1/models/churn/performance/estimated",
        params={"reference_start": T0.isoformat(), "reference_end": (T0 + DAY).isoformat()},
        headers=headers,
    ).json()
    e_first, e_last = estimated["windows"]
    assert set(e_last) >= WINDOW_KEYS
    assert (e_first["complete"], e_last["complete"]) == (True, False)
    assert e_last["estimated"]["n"] == 5468
    # The client's local mode gives the same JSON.
    local = client.performance.realized("churn")
    assert [w["complete"] for w in local["windows"]] == [True, False]
    assert local["windows"][1]["below_minimum"] == last["below_minimum"]
    client.close()
