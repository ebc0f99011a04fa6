"""A report's work is bounded: a one-minute window over rows spread across more minutes than
`MAX_WINDOWS` is refused, naming the count and the cap, from Python and the CLI (exit 2, one
line); the same rows per day are measured."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tests.performance.conftest import T0, binary_day, client_for, create_binary
from vigil.caps import MAX_WINDOWS
from vigil.cli import main
from vigil.errors import InvalidInputError
from vigil.performance import breakdown, service
from vigil.store.core import Store


@pytest.fixture
def minutes(tmp_path: Path) -> Store:
    """A model with one prediction in each of MAX_WINDOWS + 50 minutes (over two days)."""
    store = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    n = MAX_WINDOWS + 50
    data = binary_day(np.random.default_rng(0), 0, n)
    data["ts"] = [T0 + dt.timedelta(minutes=i) for i in range(n)]
    client = client_for(store, tmp_path)
    try:
        create_binary(client)
        client.log("churn", {k: v for k, v in data.items() if k != "label"}, version="v1")
        client.flush()
    finally:
        client.close()
    return store


def test_too_many_windows_are_refused_with_the_count_and_the_cap(minutes: Store) -> None:
    n = MAX_WINDOWS + 50
    with pytest.raises(InvalidInputError) as refused:
        service.realized(minutes, "churn", window="1m")
    assert refused.value.message.startswith(f"{n:,} 1m windows hold rows in this period")
    assert f"at most {MAX_WINDOWS:,}" in refused.value.message
    daily = service.realized(minutes, "churn", window="day")
    assert [w.n_predictions for w in daily.windows] == [1440, n - 1440]
    minutes.close()


def test_the_cli_says_it_in_one_line(
    minutes: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    minutes.close()
    store = [
        "--store",
        f"sqlite:///{tmp_path / 'vigil.db'}",
        "--artifacts",
        str(tmp_path / "artifacts"),
    ]
    code = main(["performance", "realized", "churn", "--window", "1m", *store])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert f"{MAX_WINDOWS + 50:,} 1m windows hold rows" in err


def test_fairness_and_segment_reports_are_bounded_too(minutes: Store) -> None:
    n = MAX_WINDOWS + 50
    with pytest.raises(InvalidInputError, match=f"^{n:,} 1m windows hold rows"):
        breakdown.fairness_report(minutes, "churn", attribute="country", window="1m")
    with pytest.raises(InvalidInputError, match=f"^{n:,} 1m windows hold rows"):
        breakdown.segment_report(
            minutes,
            "churn",
            baseline_start=T0,
            baseline_end=T0 + dt.timedelta(days=1),
            start=T0,
            end=T0 + dt.timedelta(days=2),
            window="1m",
        )
    daily = breakdown.fairness_report(minutes, "churn", attribute="country", window="day")
    assert [w.n_predictions for w in daily.windows] == [1440, n - 1440]
    minutes.close()
