"""Tar and zip members are checked at registration: each kind of bad member is refused with a
4xx, by the checker, by the REST registry route and by the MLflow registration path."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import skops.io
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

import vigil.registry.archives as archives
from tests.server.conftest import auth, make_tokens
from vigil.api.specs import Scope
from vigil.errors import PayloadTooLargeError, SerializationError, VigilError
from vigil.registry.archives import (
    ArchiveLimits,
    ArchiveTooLargeError,
    UnsafeArchiveError,
    check_artifact,
    check_folder,
    check_tar,
    check_zip,
    tar_files,
)
from vigil.registry.packaging import pack, packed_from_upload
from vigil.server import Settings, create_app
from vigil.server.mlflow.registry_api import MlflowRegistry
from vigil.store.core import Store

MiB = 1 << 20


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    return info, data


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


GOOD = [_member("MLmodel", data=b"flavors: {}\n"), _member("data", tarfile.DIRTYPE)]

BAD_TARS = {
    "absolute path": _member("/etc/cron.d/evil", data=b"x"),
    "dot-dot": _member("../escape.txt", data=b"x"),
    "dot-dot inside": _member("data/../../escape.txt", data=b"x"),
    "backslash": _member("..\\escape.txt", data=b"x"),
    "drive": _member("C:/evil.txt", data=b"x"),
    "symlink to an absolute path": _member("data/link", tarfile.SYMTYPE, link="/etc/passwd"),
    "symlink out": _member("data/link", tarfile.SYMTYPE, link="../../etc/passwd"),
    "hard link out": _member("hard", tarfile.LNKTYPE, link="../outside"),
    "hard link absolute": _member("hard", tarfile.LNKTYPE, link="/etc/shadow"),
    "character device": _member("tty", tarfile.CHRTYPE),
    "block device": _member("sda", tarfile.BLKTYPE),
    "fifo": _member("pipe", tarfile.FIFOTYPE),
}


@pytest.mark.parametrize("kind", sorted(BAD_TARS))
def test_each_kind_of_bad_tar_member_is_refused(kind: str) -> None:
    data = _tar(*GOOD, BAD_TARS[kind])
    with pytest.raises(UnsafeArchiveError) as info:
        check_tar(data)
    assert info.value.status_code == 422
    assert info.value.details["member"]
    with pytest.raises(UnsafeArchiveError):
        packed_from_upload(data, "mlflow", "model")
    with pytest.raises(UnsafeArchiveError):
        tar_files(data)  # the MLflow artifact proxy's reader refuses it too


def test_a_good_tar_passes_with_links_inside_and_its_root_folder() -> None:
    data = _tar(
        _member(".", tarfile.DIRTYPE),
        *GOOD,
        _member("data/weights.bin", data=b"w" * 10),
        _member("data/alias", tarfile.SYMTYPE, link="weights.bin"),
        _member("copy", tarfile.LNKTYPE, link="data/weights.bin"),
    )
    summary = check_tar(data)
    assert (summary.members, summary.bytes) == (5, 12 + 10)
    assert tar_files(data) == {"MLmodel": b"flavors: {}\n", "data/weights.bin": b"w" * 10}


def test_a_folder_packed_by_vigil_passes(tmp_path: Path) -> None:
    (tmp_path / "model" / "sub").mkdir(parents=True)
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "model" / "sub" / "w.bin").write_bytes(b"\0" * 100)
    packed = pack(tmp_path / "model")
    assert check_artifact(packed.data, packed.format, packed.name) is not None


def test_duplicate_members_are_refused() -> None:
    data = _tar(_member("a", data=b"1"), _member("a", data=b"2"))
    with pytest.raises(UnsafeArchiveError, match="'a' twice"):
        check_tar(data)


def test_too_many_members_are_refused() -> None:
    data = _tar(*(_member(f"f{i}", data=b"x") for i in range(6)))
    assert check_tar(data, ArchiveLimits(max_members=6)).members == 6
    with pytest.raises(ArchiveTooLargeError, match="more than 5 members") as info:
        check_tar(data, ArchiveLimits(max_members=5))
    assert info.value.status_code == 413


def test_files_past_the_size_limit_are_refused() -> None:
    data = _tar(_member("a", data=b"x" * 600), _member("b", data=b"x" * 600))
    assert check_tar(data, ArchiveLimits(max_bytes=1200)).bytes == 1200
    with pytest.raises(ArchiveTooLargeError, match="more than 1000 bytes"):
        check_tar(data, ArchiveLimits(max_bytes=1000))


class _CountingGzip(gzip.GzipFile):
    decompressed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        _CountingGzip.decompressed += len(data)
        return data


@pytest.mark.parametrize("shape", ["file", "long name header"])
def test_a_gzip_bomb_is_refused_a_few_megabytes_past_the_limit(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """64 MiB of zeros in 64 KiB of gzip: decompression stops soon after the 1 MiB limit,
    whether they are a file or a GNU long-name block (which tarfile would read whole into
    memory: refused from its header)."""
    zeros = b"\0" * (64 * MiB)
    if shape == "file":
        data = _tar(_member("weights.bin", data=zeros))
    else:
        raw = io.BytesIO()
        info = tarfile.TarInfo("x" * 120)  # a name over 100 characters: a GNU long-name block
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
            archive.addfile(info)
        header = raw.getvalue()
        # Make the long-name block claim 64 MiB and follow it with them.
        block = bytearray(header[:512])
        block[124:136] = b"%011o\0" % len(zeros)
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
        data = gzip.compress(bytes(block) + zeros, compresslevel=9)
    assert len(data) < MiB
    monkeypatch.setattr(archives.gzip, "GzipFile", _CountingGzip)
    _CountingGzip.decompressed = 0
    limits = ArchiveLimits(max_members=10, max_bytes=MiB)
    expected = ArchiveTooLargeError if shape == "file" else UnsafeArchiveError
    with pytest.raises(expected) as info:
        check_tar(data, limits)
    assert 400 <= info.value.status_code < 500
    assert _CountingGzip.decompressed <= limits.max_bytes + 3 * MiB


def test_headers_past_the_allowance_are_refused_while_decompressing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Empty files with 60 KB pax headers: no declared size is large, but the decompressed
    stream passes `max_bytes` + the header allowance, and reading stops there."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for i in range(200):
            info = tarfile.TarInfo(f"f{i}")
            info.pax_headers = {"comment": "x" * 60_000}
            archive.addfile(info)
    data = gzip.compress(raw.getvalue())
    monkeypatch.setattr(archives.gzip, "GzipFile", _CountingGzip)
    _CountingGzip.decompressed = 0
    limits = ArchiveLimits(max_bytes=MiB)
    with pytest.raises(ArchiveTooLargeError, match="decompresses to more than"):
        check_tar(data, limits)
    assert _CountingGzip.decompressed <= MiB + archives.HEADER_ALLOWANCE + 2 * MiB
    assert check_tar(data, ArchiveLimits(max_bytes=16 * MiB)).members == 200


def test_not_a_tar_is_a_serialization_error() -> None:
    for data in (b"not gzip at all", gzip.compress(b"not a tar" * 100)):
        with pytest.raises(SerializationError):
            check_tar(data)


# zip (skops) ------------------------------------------------------------------------------------


def _zip(*members: tuple[str, bytes, int]) -> bytes:
    """(name, data, mode) members; mode 0 leaves the file type unset, as skops writes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


SCHEMA = ("schema.json", b"{}", 0)
BAD_ZIPS = {
    "absolute path": ("/etc/evil", b"x", 0),
    "dot-dot": ("../evil", b"x", 0),
    "backslash": ("..\\evil", b"x", 0),
    "symlink": ("link", b"/etc/passwd", stat.S_IFLNK | 0o777),
    "fifo": ("pipe", b"", stat.S_IFIFO | 0o644),
}


@pytest.mark.parametrize("kind", sorted(BAD_ZIPS))
def test_each_kind_of_bad_zip_member_is_refused(kind: str) -> None:
    data = _zip(SCHEMA, BAD_ZIPS[kind])
    with pytest.raises(UnsafeArchiveError):
        check_zip(data)
    with pytest.raises(UnsafeArchiveError):
        packed_from_upload(data, "skops", "model.skops")
    with pytest.raises(UnsafeArchiveError):
        packed_from_upload(data, "file", "model.skops")


def test_a_zip_bomb_and_too_many_zip_members_are_refused() -> None:
    bomb = _zip(SCHEMA, ("a.npy", b"\0" * (32 * MiB), stat.S_IFREG | 0o644))
    assert len(bomb) < MiB
    with pytest.raises(ArchiveTooLargeError):
        check_zip(bomb, ArchiveLimits(max_bytes=MiB))
    many = _zip(*((f"{i}.npy", b"x", 0) for i in range(4)))
    with pytest.raises(ArchiveTooLargeError, match="4 members"):
        check_zip(many, ArchiveLimits(max_members=3))
    with pytest.raises(SerializationError):
        check_zip(b"PK not a zip")


def test_a_real_skops_file_passes() -> None:
    x = np.random.default_rng(0).normal(size=(50, 2))
    data = skops.io.dumps(LogisticRegression().fit(x, x[:, 0] > 0))
    assert check_zip(data).members > 1
    assert packed_from_upload(data, "skops", "model.skops").format == "skops"


def test_a_joblib_or_plain_file_is_not_an_archive() -> None:
    assert check_artifact(b"\x80\x04anything", "joblib", "model.joblib") is None
    assert check_artifact(b"anything", "file", "weights.onnx") is None


# through the server ---------------------------------------------------------------------------


@pytest.fixture
def small_api(store: Store) -> Iterator[TestClient]:
    settings = Settings(
        store_url=str(store.engine.url),
        artifacts_url=store.artifacts.url,
        max_archive_members=50,
        max_archive_bytes=MiB,
    )
    with TestClient(create_app(settings, store=store)) as client:
        yield client


def _register(api: TestClient, token: str, data: bytes, fmt: str, name: str) -> dict[str, object]:
    headers = auth(token)
    upload = api.post("/api/v1/registry/uploads", content=data, headers=headers)
    assert upload.status_code == 201, upload.text
    response = api.post(
        "/api/v1/registry/models/m/versions",
        json={"upload_id": upload.json()["upload_id"], "format": fmt, "source_name": name},
        headers=headers,
    )
    return {**response.json(), "http": response.status_code}


@pytest.mark.parametrize("kind", sorted(BAD_TARS))
def test_the_registry_route_refuses_bad_tar_members(
    small_api: TestClient, store: Store, kind: str
) -> None:
    token = make_tokens(store)[Scope.WRITE]
    answer = _register(small_api, token, _tar(*GOOD, BAD_TARS[kind]), "directory", "model")
    assert (answer["http"], answer["error"]) == (422, "unsafe_archive"), answer
    assert small_api.get("/api/v1/registry/models", headers=auth(token)).json() == []


def test_the_registry_route_refuses_bombs_and_bad_zips_with_the_settings_limits(
    small_api: TestClient, store: Store
) -> None:
    token = make_tokens(store)[Scope.WRITE]
    bomb = _tar(_member("weights.bin", data=b"\0" * (8 * MiB)))
    answer = _register(small_api, token, bomb, "mlflow", "model")
    assert (answer["http"], answer["error"]) == (413, "archive_too_large"), answer
    many = _tar(*(_member(f"f{i}", data=b"x") for i in range(51)))
    answer = _register(small_api, token, many, "directory", "model")
    assert (answer["http"], answer["error"]) == (413, "archive_too_large"), answer
    answer = _register(small_api, token, _zip(SCHEMA, BAD_ZIPS["symlink"]), "skops", "m.skops")
    assert (answer["http"], answer["error"]) == (422, "unsafe_archive"), answer
    good = _register(small_api, token, _tar(*GOOD), "mlflow", "model")
    assert (good["http"], good["version"]) == (201, 1), good


def test_the_mlflow_registration_path_refuses_a_folder_past_the_limits(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    registry = MlflowRegistry(store, "erin")
    registry.create_registered_model({"name": "m"})
    for i in range(3):
        registry.artifacts.put(f"1/models/m-1/artifacts/f{i}.bin", b"x" * 100)
    source = {"name": "m", "source": "mlflow-artifacts:/1/models/m-1/artifacts"}
    registry.artifacts.limits = ArchiveLimits(max_members=2)
    with pytest.raises(PayloadTooLargeError, match="3 files"):
        registry.create_model_version(source)
    registry.artifacts.limits = ArchiveLimits(max_bytes=299)
    with pytest.raises(PayloadTooLargeError, match="300 bytes"):
        registry.create_model_version(source)
    registry.artifacts.limits = ArchiveLimits()
    created = registry.create_model_version(source)
    assert created["model_version"]["version"] == "1"
    assert list(temp.iterdir()) == []  # no temporary folder left, refused or not


def test_check_folder_counts_and_sums() -> None:
    check_folder({"a": 1, "b": 2}, ArchiveLimits(max_members=2, max_bytes=3))
    for limits in (ArchiveLimits(max_members=1), ArchiveLimits(max_bytes=2)):
        with pytest.raises(VigilError):
            check_folder({"a": 1, "b": 2}, limits)
