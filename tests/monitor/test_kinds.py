from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.store.core import Store

PERIOD = {"type": "period", "start": T0.isoformat(), "end": (T0 + 12 * HOUR).isoformat()}


def _save(store: Store, name: str, kind: str, **extra: object) -> None:
    monitors.save_monitor(
        store,
        Monitor.model_validate(
            {"name": name, "kind": kind, "target": {"model": "m"}, "baseline": PERIOD, **extra}
        ),
    )


def test_new_categories_validation_and_prediction_drift(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 12), rows=100)
    rng = np.random.default_rng(3)
    n = 200
    client.log(
        "m",
        {
            "x": rng.normal(0, 1, n),
            "y": rng.normal(0, 1, n),
            "city": np.where(np.arange(n) < 50, "zurich", "a"),  # 25% never seen
            "score": rng.random(n) ** 4,  # the model's scores collapse toward 0
        },
        timestamp=T0 + 12.5 * HOUR,
    )
    _save(sqlite_store, "cats", "new_categories")
    _save(sqlite_store, "suite", "validation")
    _save(sqlite_store, "preds", "prediction_drift")
    results = monitors.backfill(sqlite_store, T0 + 11 * HOUR, T0 + 13 * HOUR, now=T0 + 13 * HOUR)
    by = {(r.monitor, r.window_start): r for r in results}
    quiet, loud = T0 + 11 * HOUR, T0 + 12 * HOUR
    assert by["cats", quiet].value == 0.0
    assert not by["cats", quiet].breached
    assert by["cats", loud].value == pytest.approx(0.25)
    assert "zurich" in by["cats", loud].message
    assert by["suite", loud].breached
    assert (by["suite", loud].value or 0) >= 1
    assert by["preds", loud].breached
    assert by["preds", loud].value == 1.0
    assert not by["preds", quiet].breached
    client.close()


def test_learned_threshold_on_missing_share(sqlite_store: Store, tmp_path: Path) -> None:
    """mean +/- k std of the statistic over the baseline windows (trailing here)."""
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    shares = [0.1, 0.2, 0.1, 0.2, 0.5]
    for h, share in enumerate(shares):
        rows = 100
        x = np.arange(rows, dtype=float)
        x[: int(share * rows)] = np.nan
        client.log("m", {"x": x, "y": x, "city": ["a"] * rows}, timestamp=T0 + h * HOUR)
    _save(
        sqlite_store,
        "gaps",
        "missing_values",
        baseline={"type": "trailing", "windows": 4},
        threshold={"type": "learned", "k": 2, "direction": "above"},
        options={"columns": ["x"]},
    )
    (result,) = monitors.backfill(sqlite_store, T0 + 4 * HOUR, T0 + 5 * HOUR, now=T0 + 5 * HOUR)
    base = np.array(shares[:4])
    assert result.upper == pytest.approx(base.mean() + 2 * base.std(ddof=1))
    assert result.lower is None
    assert result.value == pytest.approx(0.5)
    assert result.breached
    client.close()


def test_registry_baseline_uses_the_aliased_versions_training_profile(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from vigil.profile import profile
    from vigil.registry.service import Registry

    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x", "y", "city"], registry_model="churn")
    log_hours(client, range(0, 1), rows=300, shift=3.0)
    client.close()
    rng = np.random.default_rng(0)
    training = profile({"x": rng.normal(0, 1, 2000), "y": rng.normal(0, 1, 2000)})
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    registry = Registry(sqlite_store, actor="test")
    version = registry.register("churn", artifact, profile=training).version
    registry.set_alias("churn", "production", version)
    _save(
        sqlite_store,
        "train-drift",
        "data_drift",
        baseline={"type": "registry", "alias": "production"},
        options={"columns": ["x", "y"]},
    )
    (result,) = monitors.backfill(sqlite_store, T0, T0 + HOUR, now=T0 + HOUR)
    assert result.breached
    assert result.value == pytest.approx(0.5)  # x drifted, y did not
    with pytest.raises(ValueError, match="exactly one of `version` and `alias`"):
        Monitor.model_validate(
            {
                "name": "x",
                "kind": "data_drift",
                "target": {"model": "m"},
                "baseline": {"type": "registry", "version": 1, "alias": "production"},
            }
        )


def test_frequency_counts_uploads_against_earlier_weeks(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    week = 7 * 24
    for k, uploads in enumerate([3, 4, 5]):
        for i in range(uploads):
            log_hours(client, range(k * week, k * week + 1), rows=5, seed=10 * k + i)
    log_hours(client, range(3 * week, 3 * week + 1), rows=60)  # same rows, one upload
    _save(
        sqlite_store,
        "freq",
        "frequency",
        baseline={"type": "seasonal", "weeks": 3},
        threshold={"type": "learned", "k": 2},
    )
    start = T0 + 3 * week * HOUR
    (result,) = monitors.backfill(sqlite_store, start, start + HOUR, now=start + HOUR)
    assert result.value == 1.0
    assert result.lower == pytest.approx(4 - 2 * 1.0)
    assert result.upper == pytest.approx(4 + 2 * 1.0)
    assert result.breached
    client.close()
