from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.store.s3 import s3_bucket, s3_endpoint
from vigil.errors import InvalidInputError, NotFoundError
from vigil.server.mlflow.artifacts_api import MlflowArtifacts
from vigil.store.artifacts import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    open_artifact_store,
    validate_key,
)
from vigil.store.core import Store
from vigil.tracking.service import TrackingService

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


def test_the_checked_folders_a_local_store_remembers_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vigil.store.artifacts.FOLDERS_KEPT", 3)
    store = LocalArtifactStore(tmp_path / "root")
    keys = [f"predictions/m{i}/2026-11-20/a.parquet" for i in range(5)]
    for i, key in enumerate(keys):
        store.put(key, bytes([i]))
    assert len(store._folders) == 3  # a server writes into a new folder per model and day
    store.put(keys[0], b"again")  # a folder forgotten is checked and remembered again
    assert [store.get(key) for key in keys] == [b"again", b"\x01", b"\x02", b"\x03", b"\x04"]
    assert len(store._folders) == 3


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalArtifactStore(tmp_path / "root", fsync=True)
    store.put("predictions/m1/2026-11-20/a.parquet", b"a" * 100_000)  # fsync'd, whole
    assert store.get("predictions/m1/2026-11-20/a.parquet") == b"a" * 100_000

    def refuse(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        store.put("predictions/m1/2026-11-20/b.parquet", b"b")
    assert [p.name for p in (tmp_path / "root").rglob("*") if p.is_file()] == ["a.parquet"]


# replacing an artifact -------------------------------------------------------------------------


class _Hooked(ArtifactStore):
    """An artifact store that runs `before_get` (once) between a reader learning a key and
    reading its bytes, and records every put and delete."""

    def __init__(self, inner: ArtifactStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.before_get: Callable[[], None] | None = None
        self.log: list[tuple[str, str]] = []

    def put(self, key: str, data: bytes) -> None:
        self.log.append(("put", key))
        self.inner.put(key, data)

    def get(self, key: str) -> bytes:
        hook, self.before_get = self.before_get, None
        if hook is not None:
            hook()
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> list[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.log.append(("delete", key))
        self.inner.delete(key)


def _hooked(store: Store, monkeypatch: pytest.MonkeyPatch) -> _Hooked:
    hooked = _Hooked(store.artifacts)
    monkeypatch.setattr(store, "artifacts", hooked)
    return hooked


def _run_id(store: Store) -> tuple[str, str]:
    tracking = TrackingService(store)
    run = tracking.create_run(tracking.ensure_experiment("replace").id)
    return run.id, f"{run.experiment_id}/{run.id}/artifacts/model.bin"


def test_a_replacement_between_reading_the_name_and_the_bytes_is_not_a_404(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader learns the old key, the writer replaces the file (and removes the old key),
    then the reader reads: it gets the new bytes, not a 404."""
    hooked = _hooked(store, monkeypatch)
    mlflow = MlflowArtifacts(store)
    tracking = TrackingService(store)
    run_id, run_path = _run_id(store)
    for put, get in (
        (
            lambda d: mlflow.put("1/models/m-1/artifacts/MLmodel", d),
            lambda: mlflow.get("1/models/m-1/artifacts/MLmodel"),
        ),
        (
            lambda d: tracking.put_artifact(run_id, "model.bin", d),
            lambda: tracking.get_artifact(run_id, "model.bin"),
        ),
        (lambda d: mlflow.put(run_path, d), lambda: mlflow.get(run_path)),
    ):
        put(b"old")
        hooked.before_get = lambda put=put: put(b"new")  # type: ignore[misc]
        assert get() == b"new"


def test_a_replaced_file_is_removed_after_the_new_one_is_committed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooked = _hooked(store, monkeypatch)
    mlflow = MlflowArtifacts(store)
    tracking = TrackingService(store)
    run_id, _ = _run_id(store)
    committed: list[bytes] = []

    def delete(key: str) -> None:  # at the delete, readers already get the new bytes
        committed.append(mlflow.get("1/models/m-1/artifacts/MLmodel"))
        _Hooked.delete(hooked, key)

    monkeypatch.setattr(hooked, "delete", delete)
    for i in range(3):
        mlflow.put("1/models/m-1/artifacts/MLmodel", b"v%d" % i)
        tracking.put_artifact(run_id, "model.bin", b"v%d" % i)
    assert committed == [b"v1", b"v1", b"v2", b"v2"]
    puts = [k for op, k in hooked.log if op == "put"]
    deletes = [k for op, k in hooked.log if op == "delete"]
    assert deletes == puts[:-2]  # every replaced key, each after its replacement was written
    assert len(hooked.list("mlflow")) == 1
    assert len(hooked.list(f"runs/{run_id}")) == 1


def _accessors(
    store: Store, where: str, run_id: str
) -> tuple[Callable[[bytes], object], Callable[[], bytes]]:
    mlflow, tracking = MlflowArtifacts(store), TrackingService(store)
    path = "1/models/m-1/artifacts/w"

    def put(data: bytes) -> object:
        if where == "mlflow file":
            return mlflow.put(path, data)
        if where == "run artifact":
            return tracking.put_artifact(run_id, "w.bin", data)
        return store.artifacts.put("registry/uploads/w", data)

    def get() -> bytes:
        if where == "mlflow file":
            return mlflow.get(path)
        if where == "run artifact":
            return tracking.get_artifact(run_id, "w.bin")
        return store.artifacts.get("registry/uploads/w")

    return put, get


@pytest.mark.parametrize("where", ["mlflow file", "run artifact", "store key"])
def test_a_reader_polling_while_a_writer_replaces_never_sees_it_missing(
    store: Store, where: str
) -> None:
    run_id, _ = _run_id(store)
    put, get = _accessors(store, where, run_id)
    values = [bytes([i]) * 4096 for i in range(200)]
    put(values[0])
    done = threading.Event()
    failures: list[BaseException] = []
    reads = 0

    def read() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                assert get() in values  # a whole version, never a partial or a missing one
                reads += 1
            except BaseException as exc:
                failures.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for value in values[1:]:
            put(value)
    finally:
        done.set()
        reader.join()
    assert failures == []
    assert reads > 0
    assert get() == values[-1]
    assert len(store.artifacts.list("mlflow")) <= 1
    assert len(store.artifacts.list(f"runs/{run_id}")) <= 1


def test_an_mlflow_file_replaced_on_s3_is_never_missing_for_a_reader(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    """On S3 too (a PUT is atomic; the old object is deleted only after the new row commits)."""
    store = Store.open(
        f"sqlite:///{tmp_path / 'vigil.db'}",
        f"s3://{s3_bucket}/replace",
        s3_endpoint_url=s3_endpoint,
    )
    try:
        run_id, _ = _run_id(store)
        put, get = _accessors(store, "mlflow file", run_id)
        values = [bytes([i]) * 1024 for i in range(40)]
        put(values[0])
        done, failures = threading.Event(), []

        def read() -> None:
            while not done.is_set():
                try:
                    assert get() in values
                except BaseException as exc:
                    failures.append(exc)
                    return

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for value in values[1:]:
                put(value)
        finally:
            done.set()
            reader.join()
        assert failures == []
        assert get() == values[-1]
        assert len(store.artifacts.list("mlflow")) == 1
    finally:
        store.close()
