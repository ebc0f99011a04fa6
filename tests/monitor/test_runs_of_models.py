"""`runs_of` reads the tick's models, their specs and their first windows' starts in two
statements for all of them (`evaluate._models`), not two per model: each run gets the model row,
spec and first data the per-model reads gave; a monitor of a missing model or a disabled one
gets no run; and the statements do not grow with the number of models."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select

from tests.monitor.conftest import HOUR, T0, client_for
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.monitor.evaluate import runs_of
from vigil.store.core import Store
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.repositories import ModelRepository, spec_of


def _monitor(name: str, model: str, **extra: Any) -> Monitor:
    return Monitor.model_validate(
        {"name": name, "kind": "volume", "target": {"model": model}, **extra}
    )


@pytest.fixture
def models(store: Store, tmp_path: Path) -> Store:
    """Models a0..a3: a0 and a2 with data (a2's from hour 5), a1 and a3 without; monitors on
    each, one of them disabled, and one on a model deleted afterwards."""
    client = client_for(store, tmp_path)
    for i in range(5):
        client.create_model(f"a{i}", features=["x"], description=f"model {i}")
    for name, first in (("a0", 0), ("a2", 5)):
        for h in range(first, first + 3):
            client.log(name, {"x": [1.0, 2.0]}, timestamp=T0 + h * HOUR + dt.timedelta(minutes=1))
    for i in range(5):
        monitors.save_monitor(store, _monitor(f"m{i}-volume", f"a{i}"))
        monitors.save_monitor(store, _monitor(f"m{i}-off", f"a{i}", enabled=False))
    client.close()
    with store.session() as session:
        session.execute(delete(MonitoredModel).where(MonitoredModel.name == "a4"))
        session.commit()
    return store


def test_each_run_has_its_models_row_spec_and_first_data(models: Store) -> None:
    with models.session() as session:
        runs = runs_of(models, session, None)
        assert [r.monitor.name for r in runs] == [f"m{i}-volume" for i in range(4)]
        for run in runs:
            model = ModelRepository(session).find(run.monitor.target.model)
            assert model is not None
            first = session.scalar(
                select(func.min(ProfileWindow.start)).where(ProfileWindow.model_id == model.id)
            )
            assert (run.model_id, run.model, run.first_data) == (model.id, spec_of(model), first)
        firsts = {r.monitor.target.model: r.first_data for r in runs}
        assert firsts == {"a0": T0, "a1": None, "a2": T0 + 5 * HOUR, "a3": None}
        assert runs_of(models, session, ["m4-volume", "m1-off"]) == []


def test_the_statements_do_not_grow_with_the_models(models: Store) -> None:
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(str(args[2]))

    event.listen(models.engine, "before_cursor_execute", count)
    try:
        sizes = []
        for names in (["m0-volume"], [f"m{i}-volume" for i in range(4)]):
            counted.clear()
            with models.session() as session:
                assert len(runs_of(models, session, names)) == len(names)
            sizes.append(sum(MonitoredModel.__tablename__ in s for s in counted))
    finally:
        event.remove(models.engine, "before_cursor_execute", count)
    assert sizes[0] == sizes[1] <= 2
