"""Production attributions: explained at log time, summed per window, merged once per batch,
and the attribution_drift monitor against the registered version's importances."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

import vigil
from vigil.api.specs import ModelSpec
from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.explain.production import (
    AttributionsIn,
    WindowSumsIn,
    attribution_windows,
    ingest_attributions,
    log_attributions,
)
from vigil.ingestion import service
from vigil.monitor import api as monitors
from vigil.monitor.definitions import Monitor
from vigil.monitor.evaluate import backfill
from vigil.monitor.kinds.attribution_drift import total_variation
from vigil.registry.service import Registry
from vigil.store.core import Store

DAY = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
FEATURES = ["a", "b", "c"]


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 3)), columns=FEATURES)


@pytest.fixture(scope="module")
def model() -> HistGradientBoostingRegressor:
    x = _rows(3000, 0)
    y = 3 * x.a + 2 * x.b + x.c
    return HistGradientBoostingRegressor(max_iter=40, max_depth=4, random_state=0).fit(x, y)


def _setup(store: Store, model: HistGradientBoostingRegressor) -> None:
    with store.session() as session:
        service.create_model(
            session,
            ModelSpec(
                name="churn",
                features=FEATURES,
                timestamp_column="ts",
                registry_model="churn-reg",
                window_seconds=3600,
            ),
        )
        session.commit()
    registry = Registry(store)
    info = registry.register("churn-reg", model)
    registry.set_alias("churn-reg", "production", info.version)
    reference = vigil.explain.shap_importance(model, _rows(1000, 1))
    vigil.explain.log_importance(
        reference, model_version="models:/churn-reg@production", store=store
    )


def test_rows_are_explained_per_window_and_uploads_add_up(
    store: Store, model: HistGradientBoostingRegressor
) -> None:
    _setup(store, model)
    rows = _rows(400, 2).assign(
        ts=[DAY + dt.timedelta(minutes=int(m)) for m in np.linspace(0, 119, 400)]
    )
    logged = log_attributions("churn", "models:/churn-reg/1", rows, sample=1.0, store=store)
    assert logged.n_explained == 400
    assert [w.start for w in logged.batch.windows] == [DAY, DAY + dt.timedelta(hours=1)]
    with store.session() as session:
        whole = attribution_windows(session, "churn")
    assert [w.n_rows for w in whole] == [w.n_rows for w in logged.batch.windows]
    explanation = vigil.explain(model, rows[FEATURES])
    first_hour = np.array([t < DAY + dt.timedelta(hours=1) for t in rows.ts])
    expected = np.abs(explanation.contributions[first_hour]).mean(axis=0)
    np.testing.assert_allclose([whole[0].mean_abs[f] for f in FEATURES], expected, rtol=1e-9)
    # the same rows in two uploads land in the same windows with the same sums
    log_attributions("churn", model, rows[:150], sample=1.0, store=store, version="v2")
    log_attributions("churn", model, rows[150:], sample=1.0, store=store, version="v2")
    with store.session() as session:
        split = attribution_windows(session, "churn", version="v2")
    assert [w.n_rows for w in split] == [w.n_rows for w in whole]
    for a, b in zip(split, whole, strict=True):
        for feature in FEATURES:
            assert a.sums[feature] == pytest.approx(b.sums[feature], rel=1e-9)


def test_sampling_is_seeded_and_a_retried_batch_counts_once(
    store: Store, model: HistGradientBoostingRegressor
) -> None:
    _setup(store, model)
    rows = _rows(2000, 3)
    stamp = DAY + dt.timedelta(hours=5)
    first = log_attributions(
        "churn", model, rows, sample=0.1, seed=11, timestamp=stamp, store=store
    )
    again = log_attributions(
        "churn", model, rows, sample=0.1, seed=11, timestamp=stamp, store=store, version="x"
    )
    assert first.n_explained == again.n_explained
    assert 140 < first.n_explained < 260
    batch = first.batch
    with store.session() as session:
        duplicate = ingest_attributions(session, "churn", batch)
        session.commit()
    assert duplicate.duplicate
    with store.session() as session:
        [window] = attribution_windows(session, "churn", version="")
    assert window.n_rows == first.n_explained


def test_bad_uploads_are_refused(store: Store, model: HistGradientBoostingRegressor) -> None:
    _setup(store, model)
    rows = _rows(10, 4)
    with pytest.raises(InvalidInputError, match=r"sample must be a share in \(0, 1\], got 0"):
        log_attributions("churn", model, rows, sample=0, store=store)
    with pytest.raises(NotFoundError, match="no monitored model named 'other'"):
        log_attributions("other", model, rows, store=store)
    window = WindowSumsIn(start=DAY, end=DAY + dt.timedelta(hours=1), n_rows=1, sums={"a": 1.0})
    with store.session() as session:
        ingest_attributions(session, "churn", AttributionsIn(batch_id="b1", windows=[window]))
        with pytest.raises(ConflictError, match="holds shap attributions; these are lime"):
            ingest_attributions(
                session, "churn", AttributionsIn(batch_id="b2", method="lime", windows=[window])
            )
    with pytest.raises(ValueError, match="no time zone"):
        WindowSumsIn(start=dt.datetime(2026, 1, 1), end=DAY, n_rows=1, sums={})


def test_total_variation_of_shares() -> None:
    assert total_variation({"a": 2.0, "b": 2.0}, {"a": 1.0, "b": 1.0}) == 0.0
    assert total_variation({"a": 1.0}, {"b": 5.0}) == 1.0
    assert total_variation({"a": 3.0, "b": 1.0}, {"a": 1.0, "b": 1.0}) == pytest.approx(0.25)


def test_attribution_drift_monitor_breaches_when_the_model_relies_on_other_features(
    store: Store, model: HistGradientBoostingRegressor
) -> None:
    _setup(store, model)
    monitors.save_monitor(
        store,
        Monitor(
            name="churn-attributions",
            kind="attribution_drift",
            target={"model": "churn"},
            window="hour",
        ),
    )
    same = _rows(300, 5)
    shifted = _rows(300, 6).assign(a=0.0, c=lambda f: f.c * 6)  # a carries nothing, c dominates
    log_attributions("churn", model, same, sample=1.0, timestamp=DAY, store=store)
    later = DAY + dt.timedelta(hours=1)
    log_attributions("churn", model, shifted, sample=1.0, timestamp=later, store=store)
    log_attributions(
        "churn",
        model,
        _rows(5, 7),
        sample=1.0,
        timestamp=later + dt.timedelta(hours=1),
        store=store,
    )
    results = backfill(
        store,
        DAY,
        DAY + dt.timedelta(hours=3),
        monitors=["churn-attributions"],
        now=DAY + dt.timedelta(days=1),
    )
    by_start = {r.window_start: r for r in results}
    calm, drifted, thin = (by_start[DAY + dt.timedelta(hours=h)] for h in range(3))
    assert calm.value is not None
    assert calm.value < 0.05
    assert not calm.breached
    assert drifted.value is not None
    assert drifted.value > 0.3
    assert drifted.breached
    assert "churn-reg version 1" in drifted.message
    assert thin.value is None  # 5 explained rows, fewer than min_rows
    assert not thin.breached


def test_attribution_drift_says_why_it_cannot_measure(
    store: Store, model: HistGradientBoostingRegressor
) -> None:
    with store.session() as session:
        service.create_model(session, ModelSpec(name="loose", features=FEATURES))
        session.commit()
    monitors.save_monitor(
        store,
        Monitor(name="loose-attr", kind="attribution_drift", target={"model": "loose"}),
    )
    log_attributions("loose", model, _rows(50, 8), sample=1.0, timestamp=DAY, store=store)
    [result] = backfill(
        store,
        DAY,
        DAY + dt.timedelta(hours=1),
        monitors=["loose-attr"],
        now=DAY + dt.timedelta(days=1),
    )
    assert result.value is None
    assert "names no registry_model" in result.message
