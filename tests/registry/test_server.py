from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

import vigil
from tests.e2e.live import LiveServer
from tests.server.conftest import api, auth, server_store, tokens
from vigil.analysis.validation import MinInRange, Suite
from vigil.api.specs import Scope
from vigil.client.registry.remote import RemoteRegistry
from vigil.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PromotionRefusedError,
)
from vigil.registry import Gates
from vigil.store.core import Store

__all__ = ["api", "server_store", "tokens"]

X = np.random.default_rng(5).normal(size=(10, 2))


def _fitted(seed: int) -> LogisticRegression:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 2))
    return LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))


@pytest.fixture
def remote(api: TestClient, server_store: Store) -> Iterator[RemoteRegistry]:
    token = server_store.create_token(Scope.WRITE, name="ci", owner="dave")
    registry = RemoteRegistry("http://testserver", token, http=api)
    yield registry
    registry.close()


def test_register_promote_and_load_through_the_server(
    remote: RemoteRegistry, api: TestClient, tokens: dict[Scope, str]
) -> None:
    first, second = _fitted(1), _fitted(2)
    training = vigil.profile({"x": np.linspace(0, 1, 50)})
    v1 = remote.register("churn", first, metrics={"auc": 0.9}, profile=training, run_id="r1")
    v2 = remote.register("churn", second, metrics={"auc": 0.8}, tags={"t": "1"})
    assert (v1.version, v2.version, v1.created_by, v1.run_id) == (1, 2, "dave", "r1")
    assert v1.schema == {"inputs": [{"name": "x", "kind": "numeric"}], "outputs": []}
    event = remote.set_alias("churn", "production", 1, gates=Gates(metric="auc"))
    assert (event.kind, event.to_version, event.actor) == ("alias_set", 1, "dave")
    loaded = remote.load("churn", remote.get_alias("churn", "production").version)
    np.testing.assert_array_equal(loaded.predict_proba(X), first.predict_proba(X))

    # A serving system with a read token resolves the alias and downloads the artifact.
    read = auth(tokens[Scope.READ])
    alias = api.get("/api/v1/registry/models/churn/aliases/production", headers=read).json()
    assert alias["version"] == 1
    assert alias["artifact_url"] == "/api/v1/registry/models/churn/versions/1/artifact"
    download = api.get(alias["artifact_url"], headers=read)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == alias["source_sha256"]
    assert download.headers["x-vigil-format"] == "skops"
    # ... and cannot change anything.
    moved = api.put(
        "/api/v1/registry/models/churn/aliases/production", json={"version": 2}, headers=read
    )
    assert moved.status_code == 403

    with pytest.raises(PromotionRefusedError, match="worse than 0.9") as info:
        remote.set_alias("churn", "production", 2, gates=Gates(metric="auc", margin=0.05))
    assert info.value.details["worse_by"] == pytest.approx(0.1)
    suite = Suite([MinInRange(column="x", min=0)])
    remote.set_alias("churn", "staging", 1, gates=Gates(suite=suite))
    with pytest.raises(PromotionRefusedError, match="no training dataset profile"):
        remote.set_alias("churn", "staging", 2, gates=Gates(suite=suite))
    remote.set_alias("churn", "production", 2)
    log = remote.events("churn", alias="production")
    assert [(e.kind, e.from_version, e.to_version) for e in log] == [
        ("alias_set", None, 1),
        ("alias_refused", 1, 2),
        ("alias_moved", 1, 2),
    ]
    assert remote.alias_at("churn", "production", log[0].at) == 1
    assert remote.alias_at("churn", "production", log[-1].at) == 2
    assert remote.alias_at("churn", "production", log[0].at - dt.timedelta(seconds=1)) is None
    remote.set_model_tags("churn", {"team": "growth"})
    remote.set_version_tags("churn", 2, {"ok": "yes"})
    assert remote.get_model("churn").tags == {"team": "growth"}
    assert remote.get_version("churn", 2).tags == {"ok": "yes"}
    assert [m.name for m in remote.list_models()] == ["churn"]
    assert [v.version for v in remote.list_versions("churn")] == [1, 2]
    assert remote.delete_alias("churn", "staging").from_version == 1
    assert [(v.name, v.version) for v in remote.versions_of_run("r1")] == [("churn", 1)]


def test_errors_come_back_typed(remote: RemoteRegistry, api: TestClient, tmp_path: Path) -> None:
    (tmp_path / "m.bin").write_bytes(b"m")
    remote.register("churn", tmp_path / "m.bin")
    with pytest.raises(NotFoundError, match="registered models: churn"):
        remote.get_version("fraud", 1)
    with pytest.raises(NotFoundError, match=r"its aliases: none"):
        remote.get_alias("churn", "production")
    with pytest.raises(NotFoundError, match="no upload"):
        remote.api.request(
            "POST",
            "/api/v1/registry/models/churn/versions",
            json={"upload_id": "0" * 32, "format": "file", "source_name": "m.bin"},
        )
    with pytest.raises(InvalidInputError, match="upload id"):
        remote.api.request(
            "POST",
            "/api/v1/registry/models/churn/versions",
            json={"upload_id": "../../etc", "format": "file", "source_name": "m.bin"},
        )
    with pytest.raises(PermissionDeniedError):
        RemoteRegistry(
            "http://testserver", remote_token_of_scope(api, Scope.READ), http=api
        ).register("churn", tmp_path / "m.bin")


def remote_token_of_scope(api: TestClient, scope: Scope) -> str:
    store: Store = api.app.state.store  # type: ignore[attr-defined]
    return store.create_token(scope, name="scoped")


def test_vigil_models_against_a_live_server(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    opened = Store.open(store_url, str(tmp_path / "artifacts"))
    token = opened.create_token(Scope.WRITE, owner="erin")
    opened.close()
    server = LiveServer(store_url, str(tmp_path / "artifacts"), tmp_path / "server.log").start()
    try:
        model = _fitted(3)
        info = vigil.models.register("churn", model, url=server.url, token=token)
        vigil.models.set_alias("churn", "production", info.version, url=server.url, token=token)
        loaded = vigil.models.load("models:/churn@production", url=server.url, token=token)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        assert vigil.models.history("churn", url=server.url, token=token)[-1].actor == "erin"
    finally:
        server.stop()
    with pytest.raises(InvalidInputError, match="not both"):
        vigil.models.list_models(store=opened, url=server.url)


def test_a_suite_sent_to_the_server_is_yaml_never_a_server_path(
    remote: RemoteRegistry, api: TestClient, tmp_path: Path
) -> None:
    secret = tmp_path / "server-side.yaml"
    secret.write_text(Suite([MinInRange(column="x", min=0)]).to_yaml())
    (tmp_path / "m.bin").write_bytes(b"m")
    remote.register("churn", tmp_path / "m.bin")
    with pytest.raises(InvalidInputError):
        remote.api.request(
            "PUT",
            "/api/v1/registry/models/churn/aliases/production",
            json={"version": 1, "gates": {"suite": str(secret)}},
        )
