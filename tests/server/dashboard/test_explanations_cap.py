"""The explanations page reads and shows only the newest MAX_VERSIONS versions of the registered
model, and says how many older ones it left out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.server.dashboard.conftest import Demo, copy_demo, make_app, sign_in
from vigil.api.specs import Scope
from vigil.importances.store import model_version_id, save_importances
from vigil.registry.service import Registry
from vigil.server.dashboard.pages import explanations
from vigil.store.core import Store


def _shown(page: str) -> set[int]:
    return {int(v) for v in re.findall(r'data-version="(\d+)"', page)}


def test_only_the_newest_versions_are_read_and_the_rest_counted(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_demo(demo, tmp_path)
    store = Store.open(copy.store_url, copy.artifacts_url)
    try:
        registry = Registry(store)
        artifact = tmp_path / "model.bin"
        artifact.write_bytes(b"not a model")
        before = len(registry.list_versions("churn"))  # the demo's: v2 has importances, v1 none
        added = [registry.register("churn", artifact).version for _ in range(3)]
        assert added == [before + 1, before + 2, before + 3]
        with store.session() as session:
            for version, value in zip(added[:2], (0.5, 0.7), strict=True):
                save_importances(
                    session,
                    model_version_id=model_version_id(session, "churn", version),
                    method="permutation",
                    values={"tenure": value, "plan": 0.1},
                )
            session.commit()

        monkeypatch.setattr(explanations, "MAX_VERSIONS", 3)
        page = explanations.load_explanations(store, "churn")
        newest_three = [added[2], added[1], added[0]]
        assert [v.version for v in page.versions] == newest_three[1:]
        assert page.without == [added[2]]
        assert page.older == before
        assert page.versions[0].latest is not None
        assert page.versions[0].latest.values == {"tenure": 0.7, "plan": 0.1}

        with make_app(copy, store) as web:
            sign_in(web, copy.tokens[Scope.READ])
            html = web.get("/ui/models/churn/explanations").text
        assert _shown(html) == set(added[:2])  # v2's importances are older than the newest 3
        assert f"{before} older versions left out" in html

        monkeypatch.setattr(explanations, "MAX_VERSIONS", 100)
        everything = explanations.load_explanations(store, "churn")
        assert everything.older == 0
        assert [v.version for v in everything.versions] == [added[1], added[0], 2]
    finally:
        store.close()
