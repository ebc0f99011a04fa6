"""The binary profile format: round trips, stays small, and refuses bad bytes clearly."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import msgpack
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from tests.conftest import mixed_table
from vigil.errors import SerializationError
from vigil.profile import DatasetProfile
from vigil.profile.serialization import FORMAT_VERSION, MAGIC


def _every_kind() -> DatasetProfile:
    table = mixed_table(5_000, seed=3)
    emb = np.random.default_rng(0).normal(size=(table.num_rows, 8))
    table = table.append_column(
        "emb", pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), 8)
    )
    table = table.append_column("notes", pa.array(["a long sentence of free text " * 3] * 5_000))
    table = table.append_column("empty", pa.nulls(5_000))
    day = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    return vigil.profile(
        table, patterns={"cat": ["^[ab]$"]}, window=(day, day + dt.timedelta(days=1))
    )


def test_round_trip_preserves_everything() -> None:
    p = _every_kind()
    back = DatasetProfile.from_bytes(p.to_bytes())
    assert back.to_dict() == p.to_dict()
    assert back.to_bytes() == p.to_bytes()
    assert back.window == p.window
    kinds = {c.kind.value for c in back.columns.values()}
    assert kinds == {
        "numeric",
        "categorical",
        "boolean",
        "datetime",
        "embedding",
        "text",
        "unknown",
    }
    # The sketches come back working, not just their summaries.
    assert back.columns["x"].quantile(0.5) == p.columns["x"].quantile(0.5)  # type: ignore[union-attr]
    assert back.merge(back).n_rows == 2 * p.n_rows


@given(
    st.lists(st.floats(allow_nan=False, width=32), min_size=0, max_size=30), st.text(max_size=20)
)
@settings(max_examples=80, deadline=None)
def test_round_trip_property(values: list[float], word: str) -> None:
    p = vigil.profile({"v": pa.array(values, pa.float64()), "w": [word] * len(values)})
    assert DatasetProfile.from_bytes(p.to_bytes()).to_dict() == p.to_dict()


def test_size_is_a_few_tens_of_kb_whatever_the_row_count() -> None:
    rng = np.random.default_rng(0)
    sizes = []
    for n in (50_000, 500_000):
        data = {f"n{i}": rng.normal(size=n) for i in range(20)}
        for i, card in enumerate((5, 50, 500, 5_000, 10_000)):
            data[f"c{i}"] = rng.integers(0, card, n).astype(str)
        sizes.append(len(vigil.profile(data).to_bytes()))
    assert max(sizes) < 64_000
    assert sizes[1] < 1.5 * sizes[0]


def _frame(version: int, body: bytes) -> bytes:
    return struct.pack("<4sHI", MAGIC, version, zlib.crc32(body)) + body


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "truncated"),
        (b"VGP", "truncated"),
        (b"NOPE" + b"\0" * 20, "not a Vigil profile"),
        (_frame(FORMAT_VERSION + 1, b"whatever"), "newer than this Vigil reads"),
        (_frame(0, b"x"), "invalid profile format version"),
        (_frame(FORMAT_VERSION, b"not zlib"), "malformed"),
        (_frame(FORMAT_VERSION, zlib.compress(msgpack.packb([1, 2]))), "not a mapping"),
        (
            _frame(FORMAT_VERSION, zlib.compress(msgpack.packb({"columns": [["c", "weird", {}]]}))),
            "unknown column kind",
        ),
    ],
)
def test_bad_bytes_raise_serialization_error(blob: bytes, message: str) -> None:
    with pytest.raises(SerializationError, match=message):
        DatasetProfile.from_bytes(blob)


def test_every_flipped_byte_is_detected() -> None:
    good = vigil.profile({"v": [1.0, 2.0, 3.0], "w": ["a", "b", "a"]}).to_bytes()
    for position in range(len(good)):
        bad = bytearray(good)
        bad[position] ^= 0x41
        try:
            result = DatasetProfile.from_bytes(bytes(bad))
        except SerializationError:
            continue
        # A flip in an unused header bit may still decode; it must then decode to the same data.
        assert result.to_dict() == DatasetProfile.from_bytes(good).to_dict()


def test_corrupt_sketch_inside_valid_envelope_is_reported() -> None:
    p = vigil.profile({"v": [1.0, 2.0, 3.0]})
    state = p.columns["v"].to_state()
    state["kll"] = b"\x00\x01garbage"
    payload = {"n_rows": 3, "window": None, "skipped": {}, "columns": [["v", "numeric", state]]}
    blob = _frame(FORMAT_VERSION, zlib.compress(msgpack.packb(payload, use_bin_type=True)))
    with pytest.raises(SerializationError, match="quantile sketch"):
        DatasetProfile.from_bytes(blob)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_random_bytes_never_crash(blob: bytes) -> None:
    with pytest.raises(SerializationError):
        DatasetProfile.from_bytes(blob)
