"""No code from a client runs in the server: a registered pickle is never loaded by any route,
with any token, whether server-side explanation is on or off."""

from __future__ import annotations

import builtins
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from fastapi.testclient import TestClient
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.preprocessing import FunctionTransformer

from tests.e2e.live import LiveServer
from tests.server.conftest import auth, make_tokens
from tests.waits import patience
from vigil.api.specs import Scope
from vigil.registry.packaging import PackedModel
from vigil.registry.service import Registry
from vigil.server import Settings, create_app
from vigil.store.core import Store

rng = np.random.default_rng(11)
X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["tenure", "spend", "calls"])
Y = (X.tenure - X.spend > 0).astype(int)
MODEL = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, Y)
ROWS = X.head(2).to_dict(orient="records")


class _Marker:
    """Unpickling this creates the file `path` (a stand-in for any code an attacker runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return builtins.open, (str(self.path), "w")


def _pickle(marker: Path) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(_Marker(marker), buffer)
    return buffer.getvalue()


def _unsafe_skops() -> bytes:
    """A skops file naming a function outside NumPy (skops does not trust it)."""
    return bytes(skops.io.dumps(FunctionTransformer(func=json.dumps)))


def register_hostile(store: Store, marker: Path) -> dict[str, str]:
    """Register a joblib pickle, the same pickle as a `.pkl` file, and a skops file with an
    untrusted function; return each one's URI."""
    registry = Registry(store, actor="mallory")
    data = _pickle(marker)
    registry.register_packed("evil", PackedModel(data, "joblib", "model.joblib", "model.joblib"))
    registry.register_packed("evil-file", PackedModel(data, "file", "evil.pkl", "model.bin"))
    registry.register_packed(
        "evil-skops", PackedModel(_unsafe_skops(), "skops", "model.skops", "model.skops")
    )
    registry.set_alias("evil", "production", 1)
    return {
        "joblib": "models:/evil@production",
        "file": "models:/evil-file/1",
        "skops": "models:/evil-skops/latest",
    }


def _model_routes(uris: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, json body) of every route that names a registered model."""
    routes: list[tuple[str, str, dict[str, Any] | None]] = []
    for uri in uris.values():
        for suffix in ("", "?format=html"):
            routes.append(("POST", f"/api/v1/explain{suffix}", {"model": uri, "rows": ROWS}))
    for name in ("evil", "evil-file", "evil-skops"):
        version = f"/api/v1/registry/models/{name}/versions/1"
        routes += [
            ("GET", version, None),
            ("GET", f"{version}/artifact", None),
            ("GET", f"{version}/importances", None),
            ("GET", f"/api/2.0/mlflow-artifacts/artifacts/_registry/{name}/1/", None),
            ("GET", f"/api/2.0/mlflow/model-versions/get?name={name}&version=1", None),
        ]
    routes += [
        ("GET", "/api/v1/registry/models/evil/aliases/production", None),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts/_registry/evil/1/model.joblib", None),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts/_registry/evil-file/1/evil.pkl", None),
    ]
    return routes


def _check_refusal(response: httpx.Response, scope: Scope, enabled: bool, kind: str) -> None:
    assert 400 <= response.status_code < 500, (scope, kind, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "vigil.explain" in body["message"], body
    if scope is Scope.READ:
        assert (response.status_code, body["error"]) == (403, "forbidden")
        assert "'write'" in body["message"]
    elif not enabled:
        assert (response.status_code, body["error"]) == (403, "server_side_explain_disabled")
        assert "VIGIL_SERVER_SIDE_EXPLAIN" in body["message"]
    else:
        assert (response.status_code, body["error"]) == (422, "model_not_loadable_on_server")
        if kind in ("joblib", "file"):
            assert f"stored as '{kind}'" in body["message"]
        else:
            assert "json.dumps" in body["message"]


@pytest.mark.slow
@pytest.mark.parametrize("enabled", [True, False], ids=["explain-on", "explain-off"])
def test_a_registered_pickle_is_never_loaded_by_a_live_server(
    tmp_path: Path, enabled: bool
) -> None:
    store_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    marker = tmp_path / "pwned"
    opened = Store.open(store_url, str(tmp_path / "artifacts"))
    tokens = make_tokens(opened)
    uris = register_hostile(opened, marker)
    opened.close()
    # The marker works: unpickling the artifact in this (test) process creates it.
    joblib.load(io.BytesIO(_pickle(tmp_path / "control")))
    assert (tmp_path / "control").exists()

    env = {"VIGIL_SERVER_SIDE_EXPLAIN": "true" if enabled else "false"}
    server = LiveServer(store_url, str(tmp_path / "artifacts"), tmp_path / "log", env=env)
    server.start(timeout=patience(30))
    try:
        for scope in Scope:
            with httpx.Client(
                base_url=server.url, headers=auth(tokens[scope]), timeout=patience(60)
            ) as http:
                for method, path, body in _model_routes(uris):
                    response = http.request(method, path, json=body)
                    assert response.status_code < 500, (scope, path, response.text)
                    if path.startswith("/api/v1/explain"):
                        assert body is not None
                        kind = next(k for k, u in uris.items() if u == body["model"])
                        _check_refusal(response, scope, enabled, kind)
                    assert not marker.exists(), (scope, method, path)
    finally:
        server.stop()
    assert not marker.exists()


@pytest.fixture
def store_with_pickle(store: Store, tmp_path: Path) -> tuple[Store, dict[str, str], Path]:
    marker = tmp_path / "pwned"
    return store, register_hostile(store, marker), marker


def _app(store: Store, **settings: Any) -> Iterator[TestClient]:
    config = Settings(
        store_url=str(store.engine.url), artifacts_url=store.artifacts.url, **settings
    )
    with TestClient(create_app(config, store=store)) as client:
        yield client


@pytest.mark.parametrize("enabled", [True, False], ids=["explain-on", "explain-off"])
def test_explain_refuses_every_token_with_the_reason(
    store_with_pickle: tuple[Store, dict[str, str], Path], enabled: bool
) -> None:
    store, uris, marker = store_with_pickle
    tokens = make_tokens(store)
    for api in _app(store, server_side_explain=enabled):
        for scope in Scope:
            for kind, uri in uris.items():
                response = api.post(
                    "/api/v1/explain",
                    json={"model": uri, "rows": ROWS},
                    headers=auth(tokens[scope]),
                )
                _check_refusal(response, scope, enabled, kind)  # type: ignore[arg-type]
    assert not marker.exists()


def test_explanation_is_off_by_default() -> None:
    assert (
        Settings(store_url="sqlite://", artifacts_url="unused").server.server_side_explain is False
    )


def test_when_enabled_a_skops_model_is_explained_for_a_write_token_without_a_pickle_path(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's path never reaches the pickle-capable loader (made to fail here), and
    still explains a skops model."""
    import vigil.registry.packaging as packaging

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server called a loader that can unpickle")

    for name in ("unpack", "_load_joblib", "_load_skops"):
        monkeypatch.setattr(packaging, name, forbidden)
    registry = Registry(store)
    info = registry.register("churn", MODEL)
    assert info.source_format == "skops"
    tokens = make_tokens(store)
    for api in _app(store, server_side_explain=True):
        response = api.post(
            "/api/v1/explain",
            json={"model": "models:/churn/1", "rows": ROWS},
            headers=auth(tokens[Scope.WRITE]),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        margins = MODEL.decision_function(X.head(2))
        for row, margin in zip(body["rows"], margins, strict=True):
            assert body["base_value"] + sum(row["contributions"].values()) == pytest.approx(
                margin, abs=1e-6
            )
        read = api.post(
            "/api/v1/explain",
            json={"model": "models:/churn/1", "rows": ROWS},
            headers=auth(tokens[Scope.READ]),
        )
        assert read.status_code == 403


SERVER_PACKAGES = ("server", "mlflow_compat", "dashboard")
PICKLE_MODULES = {"pickle", "_pickle", "joblib", "cloudpickle", "dill", "mlflow", "torch"}
LOADING_NAMES = {
    "unpack",
    "load",
    "loads",
    "resolve_model",
    "explain",
    "shap_importance",
    "log_attributions",
    "_load_joblib",
    "_load_skops",
    "load_model",
}
"""Names that load a model from a reference (and may unpickle): never imported from Vigil's
registry or explain packages, nor called as an attribute, by server code."""


def test_server_code_has_no_path_to_a_pickle_loader() -> None:
    """Structural: no module of the server, its MLflow API or the dashboard imports a pickle
    library or a model-loading function; models reach it only through registry.safe_load."""
    import ast

    import vigil

    root = Path(vigil.__file__).parent
    offences = []
    for package in SERVER_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            where = path.relative_to(root)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    offences += [
                        f"{where}: import {a.name}"
                        for a in node.names
                        if a.name.split(".")[0] in PICKLE_MODULES
                    ]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    top = node.module.split(".")[0]
                    if top in PICKLE_MODULES:
                        offences.append(f"{where}: from {node.module} import ...")
                    if node.module.startswith(("vigil.registry", "vigil.explain")):
                        offences += [
                            f"{where}: from {node.module} import {a.name}"
                            for a in node.names
                            if a.name in LOADING_NAMES
                        ]
                elif isinstance(node, ast.Attribute) and node.attr in LOADING_NAMES:
                    owner = node.value.id if isinstance(node.value, ast.Name) else ""
                    if owner not in ("json", "yaml", "msgpack"):
                        offences.append(f"{where}:{node.lineno}: .{node.attr}")
    assert offences == []
