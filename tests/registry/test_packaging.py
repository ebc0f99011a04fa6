"""Temporary folders made for unpacking a version are removed when unpacking fails, and only
the folder asked for remains when it succeeds."""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from vigil.errors import InvalidInputError, SerializationError
from vigil.registry.packaging import materialise, pack, unpack


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder `tempfile` makes temporary folders in, for this test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _truncated_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("weights.bin")
        data = b"w" * 100_000
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()[:-2000]


def test_a_failed_unpack_leaves_no_temporary_folder(temp: Path) -> None:
    broken = _truncated_tar()
    for fmt in ("directory", "mlflow"):
        with pytest.raises(SerializationError):
            unpack(broken, fmt, source_name="m", expected_sha256=_sha(broken))
        with pytest.raises(SerializationError):
            materialise(broken, fmt, source_name="m", expected_sha256=_sha(broken))
    assert list(temp.iterdir()) == []


def test_an_mlflow_folder_without_mlflow_leaves_no_temporary_folder(
    temp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    packed = pack(tmp_path / "model")
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc", None)
    with pytest.raises(InvalidInputError, match="install mlflow"):
        unpack(packed.data, "mlflow", source_name="model", expected_sha256=packed.sha256)
    assert list(temp.iterdir()) == []


def test_a_successful_unpack_leaves_only_the_folder_it_returns(temp: Path, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"w")
    packed = pack(tmp_path / "model")
    folder = unpack(packed.data, "directory", source_name="model", expected_sha256=packed.sha256)
    assert list(temp.iterdir()) == [folder]
    assert (folder / "weights.bin").read_bytes() == b"w"
    target = tmp_path / "dst"
    assert (
        materialise(
            packed.data, "directory", source_name="model", expected_sha256=packed.sha256, dst=target
        )
        == target
    )
    assert list(temp.iterdir()) == [folder]
