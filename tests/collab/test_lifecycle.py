"""Retiring model versions: kept with their history, refused an alias, filterable, restorable."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.collab.conftest import auth, upload_version
from vigil.errors import ConflictError, InvalidInputError
from vigil.registry import Registry
from vigil.registry.service import VersionRetiredError
from vigil.store.core import Store


def test_a_retired_version_keeps_its_history_and_is_refused_an_alias(
    store: Store, model_file: Path
) -> None:
    registry = Registry(store, actor="alice")
    for _ in range(3):
        registry.register("churn", model_file, metrics={"auc": 0.8})
    registry.set_alias("churn", "production", 1)

    with pytest.raises(ConflictError, match=r"@production points at it"):
        registry.retire_version("churn", 1)
    retired = Registry(store, actor="bob").retire_version("churn", 2, note="leaky feature")
    assert (retired.lifecycle, retired.retired_by) == ("retired", "bob")
    assert retired.retired_at is not None

    with pytest.raises(VersionRetiredError, match=r"version 2 of 'churn' is retired \(by bob"):
        registry.set_alias("churn", "production", 2)
    assert registry.get_alias("churn", "production").version == 1  # unchanged

    # Kept: loadable metadata and history; filterable by state.
    assert registry.get_version("churn", 2).metrics == {"auc": 0.8}
    assert [v.version for v in registry.list_versions("churn", state="retired")] == [2]
    assert [v.version for v in registry.list_versions("churn", state="active")] == [1, 3]
    kinds = [e.kind for e in registry.events("churn")]
    assert kinds[-1] == "version_retired"
    assert registry.events("churn")[-1].details == {"note": "leaky feature"}
    with pytest.raises(InvalidInputError, match="'archived' is not one of active, retired"):
        registry.list_versions("churn", state="archived")  # type: ignore[arg-type]

    restored = registry.restore_version("churn", 2)
    assert (restored.lifecycle, restored.retired_by, restored.retired_at) == ("active", "", None)
    registry.set_alias("churn", "production", 2)
    assert registry.get_alias("churn", "production").version == 2
    assert [e.kind for e in registry.events("churn")][-3:] == [
        "version_retired",
        "version_restored",
        "alias_moved",
    ]


def test_lifecycle_over_the_api(api: TestClient, teammates: dict[str, str]) -> None:
    alice, bob = auth(teammates["alice"]), auth(teammates["bob"])
    upload_version(api, teammates["alice"], "fraud")
    upload_version(api, teammates["bob"], "fraud")
    base = "/api/v1/registry/models/fraud"

    response = api.post(f"{base}/versions/1/retire", json={"note": "old"}, headers=bob)
    assert response.status_code == 200, response.text
    assert (response.json()["lifecycle"], response.json()["retired_by"]) == ("retired", "bob")

    refused = api.put(f"{base}/aliases/production", json={"version": 1}, headers=alice)
    assert refused.status_code == 409
    assert refused.json()["error"] == "version_retired"
    assert "version 1 of 'fraud' is retired" in refused.json()["message"]

    states = api.get(f"{base}/versions", params={"state": "retired"}, headers=alice).json()
    assert [v["version"] for v in states] == [1]
    bad = api.get(f"{base}/versions", params={"state": "gone"}, headers=alice)
    assert bad.status_code == 422

    assert api.post(f"{base}/versions/1/restore", headers=alice).json()["lifecycle"] == "active"
    assert api.put(f"{base}/aliases/production", json={"version": 1}, headers=alice).is_success
