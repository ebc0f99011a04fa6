"""Training kinds: each new registered version against the previous one or @production."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import select, update

import vigil
from tests.monitor.conftest import HOUR, T0, client_for
from tests.monitor.receivers import http_receiver
from vigil import monitor as monitors
from vigil.errors import InvalidInputError
from vigil.monitor import Monitor, MonitorSettings
from vigil.monitor.versions import compare_versions
from vigil.registry.service import Registry
from vigil.store.core import Store
from vigil.store.registry_tables import RegisteredModel, RegistryEvent, RegistryModelVersion


def _register(
    store: Store,
    tmp_path: Path,
    hour: int,
    *,
    metrics: Mapping[str, float] | None = None,
    profile: vigil.DatasetProfile | None = None,
    run_id: str | None = None,
) -> int:
    """Register a version of `churn` and date it `hour` hours (and 30 minutes) after T0."""
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(f"model {hour}".encode())
    info = Registry(store, actor="ana").register(
        "churn", artifact, metrics=metrics, profile=profile, run_id=run_id
    )
    _date(store, info.version, T0 + hour * HOUR + dt.timedelta(minutes=30))
    return info.version


def _date(store: Store, version: int, when: dt.datetime) -> None:
    with store.session() as session:
        session.execute(
            update(RegistryModelVersion)
            .where(RegistryModelVersion.version == version)
            .values(created_at=when)
        )
        session.commit()


def _set_alias(store: Store, version: int, when: dt.datetime) -> None:
    Registry(store, actor="ana").set_alias("churn", "production", version)
    with store.session() as session:
        session.execute(
            update(RegistryEvent)
            .where(RegistryEvent.alias == "production", RegistryEvent.to_version == version)
            .values(at=when)
        )
        session.commit()


def _monitor(kind: str, **extra: Any) -> Monitor:
    return Monitor.model_validate(
        {"name": kind.replace("_", "-"), "kind": kind, "target": {"model": "m"}, **extra}
    )


def _setup(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"], registry_model="churn")
    client.close()


def _profile(shift: float, seed: int, n: int = 2000) -> vigil.DatasetProfile:
    rng = np.random.default_rng(seed)
    return vigil.profile(
        {
            "x": rng.normal(shift, 1.0, n),
            "y": rng.normal(0.0, 1.0, n),
            "c": rng.choice(["a", "b"], n),
        }
    )


def _run(store: Store, start: int, end: int) -> list[monitors.WindowResult]:
    return monitors.backfill(store, T0 + start * HOUR, T0 + end * HOUR, now=T0 + end * HOUR)


def test_quality_regression_opens_an_alert_through_the_channel_and_a_better_version_resolves_it(
    store: Store, tmp_path: Path
) -> None:
    _setup(store, tmp_path)
    _register(store, tmp_path, 0, metrics={"auc": 0.90, "log_loss": 0.30, "n_trees": 100})
    _register(store, tmp_path, 2, metrics={"auc": 0.85, "log_loss": 0.31, "n_trees": 200})
    _register(store, tmp_path, 4, metrics={"auc": 0.905, "log_loss": 0.29})
    settings = MonitorSettings(webhook_allow_loopback=True, delivery_backoff_seconds=0)
    with http_receiver() as hook:
        monitors.save_channel(
            store,
            monitors.Channel.model_validate(
                {"name": "hook", "config": {"type": "webhook", "url": hook.url}}
            ),
            policy=settings.outbound_policy(),
        )
        monitors.save_monitor(store, _monitor("training_quality", channels=["hook"]))
        results = _run(store, 0, 6)
        monitors.deliver_pending(store, settings)
        events = [(r.json()["event"], r.json()["monitor"]) for r in hook.requests]
    by_hour = {int((r.window_start - T0) / HOUR): r for r in results}
    assert by_hour[0].value is None  # version 1 has nothing before it
    assert "no earlier version" in by_hour[0].message
    assert by_hour[1].value is None  # no version in this window
    # Version 2: auc 0.90 -> 0.85 is 5.56% worse (log_loss 0.30 -> 0.31 is 3.3% worse).
    assert by_hour[2].value == pytest.approx((0.90 - 0.85) / 0.90)
    assert by_hour[2].breached
    assert (
        by_hour[2].message
        == "auc of version 2 of 'churn' is 0.85, 5.56% worse than 0.9 of version 1"
    )
    # Version 3 is better than version 2 on both: the alert resolves.
    assert by_hour[4].value == pytest.approx(max((0.85 - 0.905) / 0.85, (0.29 - 0.31) / 0.31))
    assert not by_hour[4].breached
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.state == "resolved"
    assert alert.target == "m"
    assert alert.details["worst"] == "auc"
    assert alert.details["unknown_direction"] == ["n_trees"]
    assert events == [("trigger", "training-quality"), ("resolve", "training-quality")]


def test_quality_against_production_uses_the_holder_when_the_version_was_registered(
    store: Store, tmp_path: Path
) -> None:
    _setup(store, tmp_path)
    _register(store, tmp_path, 0, metrics={"rmse": 10.0})
    _register(store, tmp_path, 1, metrics={"rmse": 8.0})
    _set_alias(store, 1, T0 + 1 * HOUR)
    _register(store, tmp_path, 3, metrics={"rmse": 9.0})  # better than v2, worse than v1
    monitor = _monitor(
        "training_quality",
        options={"against": "production", "relative": False},
        threshold={"type": "static", "upper": 0.5},
    )
    monitors.save_monitor(store, monitor)
    results = {int((r.window_start - T0) / HOUR): r for r in _run(store, 0, 4)}
    # Version 3 against @production at its registration (version 1): rmse 9 vs 10, better.
    assert results[3].value == pytest.approx(-1.0)
    assert not results[3].breached
    # The same version against the previous one (version 2): 1.0 worse, above the margin 0.5.
    comparison = compare_versions(store, "churn", 3)
    assert comparison.reference_version == 2
    assert comparison.quality is not None
    assert comparison.quality.metrics[0].worse_by == pytest.approx(1.0)
    # @production now points at version 2? No: at version 1; a version holding it is not compared.
    _set_alias(store, 3, T0 + 5 * HOUR)
    assert compare_versions(store, "churn", 3, against="production").reference_version is None


def test_training_data_drift_against_the_previous_versions_profile(
    store: Store, tmp_path: Path
) -> None:
    _setup(store, tmp_path)
    _register(store, tmp_path, 0, profile=_profile(0.0, seed=1))
    _register(store, tmp_path, 1, profile=_profile(0.0, seed=2))  # same distribution
    _register(store, tmp_path, 2, profile=_profile(1.0, seed=3))  # x shifted by one std
    monitors.save_monitor(store, _monitor("training_data_drift"))
    results = {int((r.window_start - T0) / HOUR): r for r in _run(store, 0, 3)}
    assert results[1].value == 0.0
    assert not results[1].breached
    assert results[2].value == pytest.approx(1 / 3)
    assert results[2].breached
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.details["drifted_columns"] == ["x"]
    assert alert.details["reference_version"] == 2


def test_training_data_profile_comes_from_the_runs_training_dataset(
    sqlite_store: Store, tmp_path: Path
) -> None:
    store = sqlite_store
    _setup(store, tmp_path)
    rng = np.random.default_rng(0)
    run_ids = []
    for shift in (0.0, 2.0):
        with vigil.start_run(experiment="churn", store=store, capture=False) as run:
            run.log_dataset({"x": rng.normal(shift, 1.0, 3000)}, name="train")
            run.log_metrics({"importance.x": 0.5, "importance.y": 0.3, "importance.z": 0.2})
            run_ids.append(run.id)
    _register(store, tmp_path, 0, run_id=run_ids[0])
    _register(store, tmp_path, 1, run_id=run_ids[1])
    comparison = compare_versions(store, "churn", 2)
    assert comparison.training_data is not None
    assert comparison.training_data.drifted_columns == ("x",)
    # Importances logged as run metrics `importance.<feature>` are read when none were saved.
    assert comparison.importance is not None
    assert comparison.importance.spearman == pytest.approx(1.0)
    assert comparison.importance.source == "run_metrics"
    assert comparison.quality is not None
    assert comparison.quality.metrics == ()


def test_training_kinds_refuse_window_baselines_and_learned_thresholds() -> None:
    with pytest.raises(ValueError, match="remove `baseline`"):
        _monitor("training_quality", baseline={"type": "trailing", "windows": 3})
    with pytest.raises(ValueError, match="static threshold"):
        _monitor("feature_importance_change", threshold={"type": "learned"})
    with pytest.raises(ValueError, match="against: alias 'v2'"):
        _monitor("training_data_drift", options={"against": "v2"})


def test_a_model_without_registry_model_is_a_stored_error(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x"])
    client.close()
    monitors.save_monitor(sqlite_store, _monitor("training_quality"))
    (result,) = _run(sqlite_store, 0, 1)
    assert result.value is None
    assert "names no registry_model" in result.message
    with pytest.raises(InvalidInputError):
        compare_versions(sqlite_store, "churn", 1, against="v1")


def test_registered_model_option_overrides_registry_model(
    sqlite_store: Store, tmp_path: Path
) -> None:
    store = sqlite_store
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    client.close()
    _register(store, tmp_path, 0, metrics={"f1": 0.8})
    _register(store, tmp_path, 1, metrics={"f1": 0.7})
    monitors.save_monitor(
        store, _monitor("training_quality", options={"registered_model": "churn"})
    )
    results = _run(store, 0, 2)
    assert results[1].breached
    with store.session() as session:
        assert session.query(RegisteredModel).count() == 1


def _save_importances(store: Store, version: int, values: Mapping[str, float]) -> None:
    from vigil.importances.store import save_importances

    with store.session() as session:
        row_id = session.scalars(
            select(RegistryModelVersion.id).where(RegistryModelVersion.version == version)
        ).one()
        save_importances(session, model_version_id=row_id, method="permutation", values=values)
        session.commit()


def test_importance_ranking_change_and_a_new_top_feature_raise_the_alert(
    store: Store, tmp_path: Path
) -> None:
    _setup(store, tmp_path)
    base = {"a": 0.40, "b": 0.30, "c": 0.20, "d": 0.06, "e": 0.04}
    shuffled = {"a": 0.40, "b": 0.30, "c": 0.20, "d": 0.04, "e": 0.06}  # only the tail swaps
    newcomer = {"a": 0.40, "b": 0.30, "c": 0.05, "d": 0.21, "e": 0.04}  # d enters the top 3
    reordered = {"a": 0.20, "b": 0.30, "c": 0.04, "d": 0.40, "e": 0.05}  # same top 3, reordered
    for hour, values in enumerate([base, shuffled, newcomer, reordered]):
        version = _register(store, tmp_path, hour)
        _save_importances(store, version, values)
    monitors.save_monitor(store, _monitor("feature_importance_change"))
    results = {int((r.window_start - T0) / HOUR): r for r in _run(store, 0, 4)}
    features = sorted(base)
    assert results[1].value == pytest.approx(
        stats.spearmanr([shuffled[f] for f in features], [base[f] for f in features]).statistic
    )
    assert not results[1].breached  # 0.9: above the default 0.8
    assert results[2].value == -1.0  # a new top-3 feature, whatever the correlation
    assert "d entered the top 3" in results[2].message
    assert results[2].breached
    assert results[3].value == pytest.approx(0.5)  # against version 3: below 0.8
    assert results[3].value == pytest.approx(
        stats.spearmanr([reordered[f] for f in features], [newcomer[f] for f in features]).statistic
    )
    assert results[3].breached
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.details["source"] == "explain"
    assert alert.n_windows == 2
