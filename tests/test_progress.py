"""Progress bars: on stderr when a person watches, never on stdout, off on request."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vigil.progress import bar, progress_enabled, track


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "tty", "argument", "expected"),
    [
        (None, True, None, True),  # a terminal: shown
        (None, False, None, False),  # piped or captured: not shown
        ("0", True, None, False),  # VIGIL_PROGRESS=0 wins over a terminal
        ("1", False, None, True),  # VIGIL_PROGRESS=1 shows it anyway
        ("1", True, False, False),  # progress=False wins over everything
        (None, True, True, True),
    ],
)
def test_when_a_bar_is_shown(
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    tty: bool,
    argument: bool | None,
    expected: bool,
) -> None:
    if env is None:
        monkeypatch.delenv("VIGIL_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("VIGIL_PROGRESS", env)
    monkeypatch.setattr("sys.stderr", _Terminal() if tty else io.StringIO())
    assert progress_enabled(argument) is expected


def test_a_bar_writes_to_stderr_only_and_yields_every_item(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    assert list(track(range(5), desc="windows")) == [0, 1, 2, 3, 4]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "windows" in captured.err
    assert "/5 " in captured.err  # a bar over the five items


def test_off_means_silent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    with bar(total=3, desc="quiet", progress=False) as shown:
        shown.update(3)
    assert list(track([1, 2], desc="quiet", progress=False)) == [1, 2]
    assert capsys.readouterr().err == ""


def test_profiling_a_file_counts_its_rows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import vigil

    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"x": list(range(2500))}), path, row_group_size=1000)
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    profile = vigil.profile(path, batch_rows=1000, workers=1)
    assert profile.n_rows == 2500
    err = capsys.readouterr().err
    assert f"profiling {path}" in err
    assert "/2500 " in err  # a bar over the rows: the total comes from the file's metadata
    vigil.profile(path, batch_rows=1000, workers=1, progress=False)
    assert capsys.readouterr().err == ""


def test_profiling_groups_counts_rows_and_log_calls_stay_silent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    import pyarrow as pa

    from vigil.client.batching import window_profiles
    from vigil.profile.groups import profile_groups

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    times = pa.array([start + dt.timedelta(hours=i) for i in range(48)], pa.timestamp("us", "UTC"))
    table = pa.table({"ts": times, "x": list(range(48))})
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    groups = profile_groups(table, window_column="ts", window="day")
    assert len(groups) == 2
    err = capsys.readouterr().err
    assert err.count("profiling table") >= 1
    assert "/48 " in err
    window_profiles(table.select(["x"]), times, "hour")  # what every client.log call does
    assert capsys.readouterr().err == ""


def test_permutation_importance_and_the_kernel_explainer_show_their_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.neighbors import KNeighborsClassifier

    import vigil

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    y = (x.a > 0).astype(int)
    model = KNeighborsClassifier(3).fit(x, y)  # no tree or linear reading: the kernel explainer
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    vigil.explain.permutation_importance(model, x, y, n_repeats=2)
    err = capsys.readouterr().err
    assert "permutation importance" in err
    assert "/4 " in err  # two features x two repeats
    explanation = vigil.explain(model, x.head(3), kernel_samples=20)
    assert explanation.algorithm == "kernel"
    assert "3/3" in capsys.readouterr().err  # shap's own bar over the rows
    vigil.explain(model, x.head(3), kernel_samples=20, progress=False)
    vigil.explain.permutation_importance(model, x, y, n_repeats=2, progress=False)
    assert capsys.readouterr().err == ""
