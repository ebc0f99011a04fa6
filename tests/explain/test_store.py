"""Importance storage on SQLite and PostgreSQL: save, latest-wins load, validation, cascades."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sqlalchemy import delete

from vigil.errors import InvalidInputError, NotFoundError
from vigil.importances.store import (
    list_importances,
    load_importances,
    model_version_id,
    save_importances,
)
from vigil.registry.service import Registry
from vigil.store.core import Store
from vigil.store.tracking_tables import Run
from vigil.tracking.service import TrackingService


def _run_id(store: Store) -> str:
    tracking = TrackingService(store)
    experiment = tracking.ensure_experiment("explain-tests")
    return tracking.create_run(experiment.id).id


def _version_id(store: Store) -> int:
    model = LinearRegression().fit(np.arange(10.0).reshape(-1, 1), np.arange(10.0))
    info = Registry(store).register("churn", model)
    with store.session() as session:
        return model_version_id(session, "churn", info.version)


def test_latest_set_of_a_method_wins_and_any_method_reads_the_newest(store: Store) -> None:
    run_id = _run_id(store)
    with store.session() as session:
        assert load_importances(session, run_id=run_id) is None
        save_importances(session, run_id=run_id, method="shap", values={"a": 0.5, "b": 0.25})
        save_importances(session, run_id=run_id, method="permutation", values={"a": 0.1})
        save_importances(session, run_id=run_id, method="shap", values={"a": 0.7, "b": 0.2})
        session.commit()
    with store.session() as session:
        assert load_importances(session, run_id=run_id, method="shap") == {"a": 0.7, "b": 0.2}
        assert load_importances(session, run_id=run_id, method="permutation") == {"a": 0.1}
        assert load_importances(session, run_id=run_id) == {"a": 0.7, "b": 0.2}
        assert load_importances(session, run_id=run_id, method="other") is None
        history = list_importances(session, run_id=run_id, method="shap")
    assert [h.values["a"] for h in history] == [0.7, 0.5]


def test_model_version_importances_are_separate_from_the_runs(store: Store) -> None:
    run_id = _run_id(store)
    version_id = _version_id(store)
    with store.session() as session:
        save_importances(
            session, model_version_id=version_id, method="shap", values={"x": 1.0}, actor="ana"
        )
        save_importances(session, run_id=run_id, method="shap", values={"x": 2.0})
        session.commit()
    with store.session() as session:
        assert load_importances(session, model_version_id=version_id) == {"x": 1.0}
        assert load_importances(session, run_id=run_id) == {"x": 2.0}
        [record] = list_importances(session, model_version_id=version_id)
    assert record.actor == "ana"
    assert record.run_id is None
    assert record.method == "shap"


def test_values_survive_as_floats_with_unicode_names(store: Store) -> None:
    run_id = _run_id(store)
    values = {"âge": 1e-12, "city name": 3.0, "n": 12345.678901234}
    with store.session() as session:
        save_importances(session, run_id=run_id, method="permutation", values=values)
        session.commit()
    with store.session() as session:
        assert load_importances(session, run_id=run_id) == values


def test_bad_input_is_refused_naming_the_value(store: Store) -> None:
    run_id = _run_id(store)
    with store.session() as session:
        with pytest.raises(InvalidInputError, match="run_id= or model_version_id="):
            save_importances(session, method="shap", values={"a": 1.0})
        with pytest.raises(InvalidInputError, match="'a' is nan"):
            save_importances(session, run_id=run_id, method="shap", values={"a": math.nan})
        with pytest.raises(InvalidInputError, match="'a' is 'high'"):
            save_importances(session, run_id=run_id, method="shap", values={"a": "high"})  # type: ignore[dict-item]
        with pytest.raises(InvalidInputError, match="non-empty"):
            save_importances(session, run_id=run_id, method="shap", values={})
        with pytest.raises(InvalidInputError, match="method ''"):
            save_importances(session, run_id=run_id, method="", values={"a": 1.0})
        with pytest.raises(NotFoundError, match="no run with id 'nope'"):
            save_importances(session, run_id="nope", method="shap", values={"a": 1.0})
        with pytest.raises(NotFoundError, match="no model version with id 999"):
            save_importances(session, model_version_id=999, method="shap", values={"a": 1.0})
        with pytest.raises(NotFoundError, match="no version 7"):
            model_version_id(session, "churn", 7)
        with pytest.raises(InvalidInputError, match="give run_id="):
            load_importances(session)


def test_deleting_a_run_deletes_its_importances(store: Store) -> None:
    run_id = _run_id(store)
    with store.session() as session:
        save_importances(session, run_id=run_id, method="shap", values={"a": 1.0})
        session.commit()
    with store.session() as session:
        session.execute(delete(Run).where(Run.id == run_id))
        session.commit()
    with store.session() as session:
        assert load_importances(session, run_id=run_id) is None
