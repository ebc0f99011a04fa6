"""A profile is refused before any of its columns is decoded when it has more than the reader
takes (`DatasetProfile.from_bytes(max_columns=)`); an upload may have no more columns than its
model profiles, so a crafted one cannot make the server decode thousands of columns first."""

from __future__ import annotations

import datetime as dt

import pytest

import vigil
from vigil.api.specs import ModelSpec
from vigil.api.wire import LogBatch
from vigil.errors import InvalidInputError, SerializationError
from vigil.ingestion.service import check_log_of
from vigil.profile import DatasetProfile
from vigil.profile.columns import numeric

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
WINDOW = (T0, T0 + dt.timedelta(hours=1))


def _blob(n_columns: int) -> bytes:
    columns = {f"c{i}": [1.0, 2.0, float(i)] for i in range(n_columns)}
    return vigil.profile(columns, window=WINDOW).to_bytes()


def test_the_cap_counts_columns_before_decoding_any(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = _blob(3)
    assert len(DatasetProfile.from_bytes(blob, max_columns=3).columns) == 3
    built: list[object] = []
    monkeypatch.setattr(
        numeric.NumericColumn, "from_state", classmethod(lambda cls, s: built.append(s))
    )
    with pytest.raises(SerializationError, match="has 3 columns; at most 2") as refused:
        DatasetProfile.from_bytes(blob, max_columns=2)
    assert refused.value.details == {"columns": 3, "limit": 2}
    assert built == []


def test_an_upload_with_more_columns_than_its_model_is_refused_by_count() -> None:
    spec = ModelSpec(name="m", features=["c0", "c1"], predictions=[])
    with pytest.raises(InvalidInputError, match="has 5 columns; at most 2"):
        check_log_of(1, spec, LogBatch(version="v1", profiles=[_blob(5)]))
    # Within the count, an undeclared column is named as before.
    undeclared = vigil.profile({"c0": [1.0], "c2": [2.0]}, window=WINDOW).to_bytes()
    with pytest.raises(InvalidInputError, match=r"column\(s\) \['c2'\]"):
        check_log_of(1, spec, LogBatch(version="v1", profiles=[undeclared]))
