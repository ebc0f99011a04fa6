from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.client.tracking.run import start_run
from vigil.errors import NotFoundError
from vigil.store.core import Store
from vigil.tracking.datasets import CHUNK_PREFIX, DatasetService


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    try:
        yield opened
    finally:
        opened.close()


def _frame(n: int, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"age": rng.normal(40 + shift, 5, n), "city": rng.choice(["Oslo", "Lyon"], n)}
    )


def test_same_content_same_version_and_chunks_stored_once(store: Store, tmp_path: Path) -> None:
    datasets = DatasetService(store, chunk_size=1024)
    data = np.random.default_rng(0).bytes(10 * 1024)  # 10 chunks, all different
    path = tmp_path / "a.bin"
    path.write_bytes(data)
    v1 = datasets.add(path, "blobs")
    assert datasets.add(path, "blobs") == v1
    assert v1.version == 1
    assert v1.n_chunks == 10
    assert v1.size == len(data)
    assert not v1.has_profile
    changed = bytearray(data)
    changed[5000] ^= 1
    path.write_bytes(bytes(changed))
    v2 = datasets.add(path, "blobs")
    assert v2.version == 2
    assert v2.digest != v1.digest
    # the one changed chunk is new, the other nine are shared
    assert len(store.artifacts.list(CHUNK_PREFIX)) == 11
    assert datasets.read_bytes(v1) == data
    assert datasets.read_bytes(v2) == bytes(changed)
    assert datasets.get("blobs") == v2
    assert datasets.get("blobs@1") == v1
    assert datasets.get(f"blobs@{v1.digest[:10]}") == v1
    assert [v.version for v in datasets.versions("blobs")] == [1, 2]
    with pytest.raises(NotFoundError, match="blobs@7"):
        datasets.get("blobs@7")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=5000), where=st.integers(0), flip=st.integers(1, 255))
def test_any_one_byte_change_makes_a_new_version(
    sqlite_store: Store, tmp_path: Path, data: bytes, where: int, flip: int
) -> None:
    datasets = DatasetService(sqlite_store, chunk_size=1024)
    original = tmp_path / "orig.bin"
    original.write_bytes(data)
    copy = tmp_path / "copy.bin"
    copy.write_bytes(data)
    changed = bytearray(data)
    changed[where % len(data)] ^= flip
    modified = tmp_path / "changed.bin"
    modified.write_bytes(bytes(changed))
    first = datasets.add(original, "prop")
    assert datasets.add(copy, "prop").digest == first.digest
    assert datasets.add(modified, "prop").digest != first.digest


def test_in_memory_data_with_profile_and_lineage(store: Store) -> None:
    frame = _frame(500)
    with start_run("churn", store=store, capture=False) as run:
        version = run.log_dataset(frame, "churn-train")
        run.log_dataset(_frame(100, seed=1), "churn-valid", context="validation")
    datasets = DatasetService(store)
    assert version.content_format == "arrow"
    assert version.n_rows == 500
    assert DatasetService(store).add(frame.copy(), "churn-train") == version
    profile = datasets.profile(version)
    assert profile is not None
    assert profile.columns["age"].mean == pytest.approx(frame["age"].mean())
    assert datasets.runs_using(version) == [(run.id, "training")]
    inputs = datasets.inputs_of(run.id)
    assert [(v.name, c) for v, c in inputs] == [
        ("churn-train", "training"),
        ("churn-valid", "validation"),
    ]


def test_diff_reports_schema_changes_and_drift(store: Store, tmp_path: Path) -> None:
    datasets = DatasetService(store)
    a = tmp_path / "a.parquet"
    _frame(2000).to_parquet(a)
    b = tmp_path / "b.parquet"
    frame = _frame(2000, shift=10, seed=1).drop(columns=["city"])
    frame["score"] = 1.0
    frame.to_parquet(b)
    datasets.add(a, "d")
    datasets.add(b, "d")
    diff = datasets.diff("d@1", "d@2")
    assert diff.added_columns == ["score"]
    assert diff.removed_columns == ["city"]
    assert diff.drift is not None
    assert diff.drift.drifted_columns == ("age",)
    assert not diff.same_content
    assert diff.to_dict()["added_columns"] == ["score"]
