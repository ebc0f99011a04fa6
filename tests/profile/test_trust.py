"""Bytes this process encoded are decoded without re-checking their sketches; any other bytes,
including the same profile written elsewhere, get every check."""

from __future__ import annotations

import zlib

import msgpack
import pytest

import vigil
from vigil.errors import SerializationError
from vigil.profile import DatasetProfile, serialization, sketches, trust

DATA = {"x": [1.0, 2.0, 3.5], "city": ["Oslo", "Lyon", "Oslo"]}


def _refuse(*_: object, **__: object) -> int:
    raise SerializationError("checked")


def test_self_written_bytes_skip_the_sketch_checks_and_others_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blob = vigil.profile(DATA).to_bytes()  # encoded here: remembered
    for name in ("check_kll", "check_cpc", "check_frequent_strings"):
        monkeypatch.setattr(sketches, name, _refuse)
    assert DatasetProfile.from_bytes(blob).n_rows == 3  # no check ran
    monkeypatch.setattr(trust, "WRITTEN", trust._Written(trust.CAPACITY))  # a fresh process
    with pytest.raises(SerializationError, match="checked"):
        DatasetProfile.from_bytes(blob)


def test_changed_bytes_are_never_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = vigil.profile(DATA).to_bytes()
    # The same sketches in a valid envelope and checksum, one field changed: not these bytes.
    payload = msgpack.unpackb(zlib.decompress(blob[serialization._HEADER.size :]), raw=False)
    payload["skipped"] = {"other": "a reason"}
    body = zlib.compress(msgpack.packb(payload, use_bin_type=True), 1)
    changed = serialization._HEADER.pack(b"VGPF", 1, zlib.crc32(body)) + body
    assert changed not in trust.WRITTEN
    monkeypatch.setattr(sketches, "check_kll", _refuse)
    with pytest.raises(SerializationError, match="checked"):
        DatasetProfile.from_bytes(changed)


def test_the_memory_is_bounded_and_forgets_the_oldest() -> None:
    written = trust._Written(capacity=3)
    blobs = [bytes([i]) * 10 for i in range(5)]
    for blob in blobs:
        written.add(blob)
    assert [b in written for b in blobs] == [False, False, True, True, True]
