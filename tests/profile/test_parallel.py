"""Profiling Parquet on several processes equals profiling it in one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from tests.conftest import mixed_table
from vigil.errors import InvalidInputError
from vigil.profile.parallel import Unit, choose_workers, plan, share


def _exact(p: vigil.DatasetProfile) -> dict[str, object]:
    body = p.to_dict()
    for column in body["columns"].values():
        column.pop("quantiles", None)
        column.pop("median", None)
        for key in ("mean", "variance", "std"):
            if isinstance(column.get(key), float):
                column[key] = round(column[key], 9)
        if "length" in column:
            column["length"]["mean"] = round(column["length"]["mean"], 9)
    return body


def test_workers_give_the_same_profile(tmp_path: Path) -> None:
    table = mixed_table(40_000, seed=4)
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=5_000)
    one = vigil.profile(path, workers=1)
    two = vigil.profile(path, workers=2)
    assert _exact(two) == _exact(one)
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(table.slice(0, 15_000), folder / "a.parquet", row_group_size=5_000)
    pq.write_table(table.slice(15_000), folder / "b.parquet", row_group_size=5_000)
    (folder / "_SUCCESS").write_text("")
    assert _exact(vigil.profile(folder, workers=2)) == _exact(one)


def test_a_script_without_a_main_guard_can_profile_in_parallel(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"v": np.arange(30_000.0)}), path, row_group_size=5_000)
    script = tmp_path / "script.py"
    script.write_text(
        f"import vigil\np = vigil.profile({str(path)!r}, workers=2)\nprint(p.columns['v'].mean)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(14_999.5)


def test_work_is_shared_by_rows() -> None:
    units = [Unit("f", (i,), rows) for i, rows in enumerate([100, 90, 50, 40, 10, 10])]
    shares = share(units, 2)
    loads = sorted(sum(u.rows for u in s) for s in shares)
    assert loads == [150, 150]
    assert sorted(u.row_groups for s in shares for u in s) == [(i,) for i in range(6)]


def test_auto_workers_only_for_large_inputs(tmp_path: Path) -> None:
    small = [Unit("f", (0,), 1_000), Unit("f", (1,), 1_000)]
    assert choose_workers(small, None) == 1
    big = [Unit("f", (i,), 1_000_000) for i in range(4)]
    assert choose_workers(big, None) == min(
        os.cpu_count() or 1, 4
    )  # every core, one unit each at most
    assert choose_workers(big, 16) == 4
    assert choose_workers(big, 1) == 1


def test_bad_workers_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="workers must be at least 1, got 0"):
        vigil.profile({"a": [1]}, workers=0)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 but nothing else")
    with pytest.raises(vigil.VigilError, match="not a readable Parquet file"):
        plan(bad)
