"""`WindowKinds` remembers the kinds of the pieces it had to decode (windows stored without their
kinds), by digest, at most `pieces` of them: a piece seen again is not decoded again, and the
memory stays within its bound."""

from __future__ import annotations

import datetime as dt

import pytest

import vigil
from vigil.profile import DatasetProfile
from vigil.store import window_kinds
from vigil.store.window_kinds import WindowKinds, decode, kinds_of

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def _blob(column: str) -> bytes:
    return vigil.profile({column: [1.0, 2.0]}, window=(T0, T0 + dt.timedelta(hours=1))).to_bytes()


def test_pieces_are_decoded_once_and_remembered_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[bytes] = []
    from_bytes = DatasetProfile.from_bytes

    def counting(blob: bytes, **kwargs: int) -> DatasetProfile:
        decoded.append(blob)
        return from_bytes(blob, **kwargs)

    monkeypatch.setattr(window_kinds.DatasetProfile, "from_bytes", counting)
    kinds = WindowKinds(pieces=2)
    a, b, c = _blob("a"), _blob("b"), _blob("c")
    upload = kinds_of(from_bytes(a))
    stored = kinds.check(None, upload, lambda: [a, b])
    assert stored is not None
    assert sorted(decode(stored) or {}) == ["a", "b"]
    assert decoded == [a, b]
    kinds.check(None, upload, lambda: [a, b])  # both remembered
    assert decoded == [a, b]
    kinds.check(None, upload, lambda: [c])  # evicts the least recently used
    assert len(kinds._pieces) == 2
    assert decoded == [a, b, c]
    assert kinds.store_reads == 3
