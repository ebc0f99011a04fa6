from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import api, server_store
from tests.store.conftest import store, store_url
from tests.store.pg import postgres_url
from vigil.api.specs import Scope
from vigil.store.core import Store

__all__ = ["api", "postgres_url", "server_store", "store", "store_url"]


@pytest.fixture
def teammates(server_store: Store) -> dict[str, str]:
    """Two write tokens standing for two teammates: alice and bob."""
    return {
        who: server_store.create_token(Scope.WRITE, name=f"{who}-laptop", owner=who)
        for who in ("alice", "bob")
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights")
    return path


def upload_version(api: TestClient, token: str, name: str, data: bytes = b"w") -> dict[str, object]:
    """Register a version through the API (upload, then version), as `token`'s owner."""
    upload = api.post("/api/v1/registry/uploads", content=data, headers=auth(token))
    assert upload.status_code == 201, upload.text
    body = {"upload_id": upload.json()["upload_id"], "format": "file", "source_name": "m.bin"}
    response = api.post(f"/api/v1/registry/models/{name}/versions", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    try:
        yield opened
    finally:
        opened.close()
