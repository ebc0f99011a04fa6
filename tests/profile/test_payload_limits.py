"""The profile payload's decompression and MessagePack decoding are bounded (issue 14, point 3):
a few KB of zlib bomb are refused once they pass 1 MiB, and no container in the payload may be
larger than a profile of MAX_COLUMNS columns has."""

from __future__ import annotations

import struct
import zlib

import msgpack
import pytest

from vigil.errors import SerializationError
from vigil.profile import DatasetProfile
from vigil.profile.serialization import MAX_COLUMNS, MIN_PAYLOAD_LIMIT, payload_limit


def _frame(payload: object) -> bytes:
    body = zlib.compress(msgpack.packb(payload, use_bin_type=True), 9)
    return struct.pack("<4sHI", b"VGPF", 1, zlib.crc32(body)) + body


def _profile(**changes: object) -> dict[str, object]:
    return {"n_rows": 0, "window": None, "skipped": {}, "columns": []} | changes


def test_a_few_kb_that_inflate_past_the_limit_are_refused_naming_it() -> None:
    bomb = _frame(_profile(skipped={"x": "a" * (16 << 20)}))
    assert len(bomb) < 32_000
    with pytest.raises(SerializationError, match=f"more than {MIN_PAYLOAD_LIMIT} bytes"):
        DatasetProfile.from_bytes(bomb)


def test_the_limit_grows_with_the_compressed_size_up_to_a_ceiling() -> None:
    assert payload_limit(1_000) == MIN_PAYLOAD_LIMIT
    assert payload_limit(1 << 20) == 64 << 20
    assert payload_limit(1 << 30) == 256 << 20


def test_an_array_longer_than_any_profile_has_is_refused() -> None:
    blob = _frame(_profile(columns=[0] * (MAX_COLUMNS + 1)))
    with pytest.raises(SerializationError, match="exceeds max_array_len"):
        DatasetProfile.from_bytes(blob)


def test_an_empty_profile_within_the_limits_still_decodes() -> None:
    assert DatasetProfile.from_bytes(_frame(_profile())).is_empty
