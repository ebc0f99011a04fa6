from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.store.s3 import s3_bucket, s3_endpoint
from vigil.errors import InvalidInputError, NotFoundError
from vigil.store.artifacts import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    open_artifact_store,
    validate_key,
)

__all__ = ["s3_bucket", "s3_endpoint"]

ESCAPES = [
    "../outside",
    "a/../../outside",
    "a/./b",
    "/etc/passwd",
    "//etc/passwd",
    "..",
    ".",
    "",
    "a//b",
    "a/",
    "%2e%2e/outside",
    "%2E%2E%2Foutside",
    "%252e%252e%252foutside",
    "..%2foutside",
    "a\\..\\outside",
    "C:\\Windows\\win.ini",
    "a/\x00b",
    "~/secret",
    ".hidden/../..",
]


@pytest.mark.parametrize("key", ESCAPES)
def test_unsafe_keys_are_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        validate_key(key)
    store = LocalArtifactStore(tmp_path / "root")
    with pytest.raises(InvalidInputError):
        store.put(key, b"x")
    with pytest.raises(InvalidInputError):
        store.get(key)
    assert not (tmp_path / "outside").exists()
    assert store.list() == []


def test_a_symlink_inside_the_store_cannot_lead_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    store = LocalArtifactStore(tmp_path / "root")
    os.symlink(outside, tmp_path / "root" / "link")
    with pytest.raises(InvalidInputError, match="outside the artifact store"):
        store.get("link/secret")
    with pytest.raises(InvalidInputError, match="outside the artifact store"):
        store.put("link/new", b"x")
    assert not (outside / "new").exists()
    assert store.list() == []


def _roundtrip(store: ArtifactStore) -> None:
    store.put("predictions/m1/2026-11-20/a.parquet", b"one")
    store.put("predictions/m1/2026-11-21/b.parquet", b"two")
    store.put("labels/m1/2026-11-21/c.parquet", b"three")
    store.put("predictions/m1/2026-11-20/a.parquet", b"one again")
    assert store.get("predictions/m1/2026-11-20/a.parquet") == b"one again"
    assert store.exists("labels/m1/2026-11-21/c.parquet")
    assert not store.exists("labels/m1/nope")
    assert store.list("predictions/m1") == [
        "predictions/m1/2026-11-20/a.parquet",
        "predictions/m1/2026-11-21/b.parquet",
    ]
    assert len(store.list()) == 3
    assert store.list("missing") == []
    store.delete("labels/m1/2026-11-21/c.parquet")
    with pytest.raises(NotFoundError, match="c.parquet"):
        store.get("labels/m1/2026-11-21/c.parquet")
    with pytest.raises(InvalidInputError):
        store.put("../escape", b"x")


def test_local_store_roundtrip_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path / "root"))
    _roundtrip(store)
    assert not [p for p in (tmp_path / "root").rglob(".*")]


def test_s3_store_roundtrip_on_a_local_s3_server(s3_endpoint: str, s3_bucket: str) -> None:
    store = open_artifact_store(f"s3://{s3_bucket}/team/vigil", s3_endpoint_url=s3_endpoint)
    assert isinstance(store, S3ArtifactStore)
    _roundtrip(store)
    import boto3

    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)[
            "Contents"
        ]
    ]
    assert all(k.startswith("team/vigil/") for k in keys)


def test_artifact_urls_are_checked(tmp_path: Path) -> None:
    assert isinstance(open_artifact_store(f"file://{tmp_path}/x"), LocalArtifactStore)
    with pytest.raises(InvalidInputError, match="unknown scheme"):
        open_artifact_store("ftp://host/x")
    with pytest.raises(InvalidInputError, match="s3://bucket/prefix"):
        S3ArtifactStore("s3:///nobucket")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab./\\%2e5fF_-=~:\x00 ")), min_size=1, max_size=24))
def test_any_accepted_key_stays_inside_the_root(key: str) -> None:
    try:
        validate_key(key)
    except InvalidInputError:
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder).resolve() / "root"
        store = LocalArtifactStore(root)
        store.put(key, b"x")
        written = [p for p in root.parent.rglob("*") if p.is_file()]
        assert written == [(root / key).resolve()]
        assert store.list() == [key]


def test_a_write_into_a_folder_removed_since_the_last_write_recreates_it(tmp_path: Path) -> None:
    import shutil

    store = LocalArtifactStore(tmp_path / "root")
    store.put("predictions/m1/2026-11-20/a.parquet", b"a")
    shutil.rmtree(tmp_path / "root" / "predictions")
    store.put("predictions/m1/2026-11-20/b.parquet", b"b")
    assert store.get("predictions/m1/2026-11-20/b.parquet") == b"b"
    assert store.list("predictions") == ["predictions/m1/2026-11-20/b.parquet"]
