"""Ordering by a key the filter requires takes a join instead of an outer join (so the database
walks its index), and the filter's tests on that key move into the join: the runs and their
order are the same as with the outer join and the whole filter."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vigil.store.core import Store
from vigil.store.tracking_tables import Run
from vigil.tracking.filter_syntax import parse_filter
from vigil.tracking.search import apply_order, compile_filter, required_keys, runs_query
from vigil.tracking.service import TrackingService


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("metrics.auc > 0.2", ["metrics.auc DESC"]),
        ("metrics.auc != 0.5 and params.model = 'a'", ["metrics.auc ASC"]),
        ("params.model in ('a', 'b') and metrics.auc <= 0.9", ["params.model", "metrics.auc DESC"]),
        ("tags.team LIKE 'r%'", ["tags.team DESC", "metrics.auc"]),
    ],
)
def test_a_required_key_orders_like_the_outer_join(
    tmp_path: Path, text: str, order: list[str]
) -> None:
    from sqlalchemy import select

    service = TrackingService(Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a")))
    experiment = service.create_experiment("e")
    for i in range(40):
        run = service.create_run(experiment.id, start_ms=1000 + i)
        metrics = [] if i % 9 == 0 else [("auc", math.nan if i % 11 == 0 else (i % 10) / 10, 0, i)]
        tags = {"team": "risk" if i % 3 else "ops"} if i % 5 else {}
        service.log_batch(run.id, metrics=metrics, params={"model": "abc"[i % 3]}, tags=tags)
    tree = parse_filter(text)
    base = select(Run).where(compile_filter(tree))
    with service.store.session() as session:
        joined = list(session.scalars(apply_order(base, order, required_keys(tree))))
        outer = list(session.scalars(apply_order(base, order)))
        searched = list(session.scalars(runs_query([experiment.id], text, order)))
    assert required_keys(tree)
    assert [r.id for r in joined] == [r.id for r in outer]
    assert [r.id for r in searched] == [r.id for r in outer]
    assert len(joined) > 3
