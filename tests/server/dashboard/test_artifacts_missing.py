"""Served with the wrong artifact location (no `--artifacts`), the dashboard says so on every
page instead of quietly showing no prediction rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.dashboard.conftest import Demo, make_app, sign_in
from vigil.api.specs import Scope
from vigil.registry import Registry
from vigil.store.artifact_check import artifacts_problem
from vigil.store.core import Store


def test_a_store_without_its_artifacts_is_named_on_every_page(demo: Demo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "artifacts"  # as `vigil server --store URL` alone would open
    store = Store.open(demo.store_url, str(elsewhere))
    try:
        problem = artifacts_problem(store)
        assert problem is not None
        assert problem.startswith(
            f"the artifact store at {elsewhere} holds none of the files this database refers "
            "to (not the model file of churn v2, registry/versions/"
        )
        assert "start the server with --artifacts" in problem
        with make_app(demo, store) as web:
            sign_in(web, demo.tokens[Scope.READ])
            for url in ("/ui/", "/ui/models/churn", "/ui/registry/churn", "/ui/experiments"):
                page = web.get(url)
                assert page.status_code == 200, url
                assert "Files are missing: the artifact store at" in page.text, url
    finally:
        store.close()


def test_the_demo_served_with_its_artifacts_has_no_banner(web: TestClient, demo: Demo) -> None:
    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        assert artifacts_problem(store) is None
    finally:
        store.close()
    sign_in(web, demo.tokens[Scope.READ])
    assert "Files are missing" not in web.get("/ui/").text


def test_an_empty_store_refers_to_no_files(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    try:
        assert artifacts_problem(store) is None
    finally:
        store.close()


def test_a_check_that_cannot_reach_the_artifacts_stops_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    try:
        Registry(store, actor="alice").register("churn", model)
        (tmp_path / "artifacts" / "registry").rename(tmp_path / "moved")
        assert artifacts_problem(store) is not None  # the check reaches the store: it is missing

        def refused(key: str) -> bool:
            raise PermissionError(f"403 on {key}")

        monkeypatch.setattr(store.artifacts, "exists", refused)
        assert artifacts_problem(store) is None
        assert "could not check the artifact store" in caplog.text
    finally:
        store.close()
