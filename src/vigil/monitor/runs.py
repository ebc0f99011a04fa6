"""Compare a finished training run with the run of its experiment that finished before it:
quality metrics, feature importances and training data (as for registered versions, for runs
that were never registered)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from vigil.api.tracking import RunStatus
from vigil.errors import NotFoundError
from vigil.monitor.comparisons import Direction
from vigil.monitor.trained import SECTIONS, ComparedSections, Sections, Trained, compare_trained
from vigil.store.tracking_tables import Experiment, Run

if TYPE_CHECKING:
    from vigil.store.core import Store


@dataclass(frozen=True)
class RunComparison(ComparedSections):
    """A run against the run of its experiment that finished before it."""

    experiment: str
    run_id: str
    reference_run_id: str | None
    sections: Sections = field(default_factory=Sections)
    against: str = "previous"

    @property
    def subject(self) -> str:
        return f"run {self.run_id[:8]} of experiment {self.experiment!r}"

    @property
    def reference(self) -> str:
        return f"run {(self.reference_run_id or '')[:8]}"

    def identity(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "run_id": self.run_id,
            "against": self.against,
            "reference_run_id": self.reference_run_id,
        }


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _finished(experiment_id: int) -> Any:
    return select(Run).where(
        Run.experiment_id == experiment_id,
        Run.status == RunStatus.FINISHED.value,
        Run.parent_id.is_(None),
        Run.end_ms.is_not(None),
    )


def _experiment_id(store: Store, name: str) -> int:
    with store.read_session() as session:
        found = session.scalars(select(Experiment.id).where(Experiment.name == name)).first()
    if found is None:
        raise NotFoundError(f"no experiment named {name!r}", experiment=name)
    return found


def runs_finished(store: Store, experiment: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Ids of the experiment's top-level runs that finished in [start, end), in that order."""
    experiment_id = _experiment_id(store, experiment)
    with store.read_session() as session:
        rows = session.scalars(
            _finished(experiment_id)
            .where(Run.end_ms >= _ms(start), Run.end_ms < _ms(end))
            .order_by(Run.end_ms, Run.id)
        ).all()
        return [r.id for r in rows]


def previous_run(store: Store, run_id: str) -> tuple[str, str | None]:
    """The run's experiment name and the id of the top-level run of that experiment that
    finished last before it (None: it is the first)."""
    with store.read_session() as session:
        run = session.get(Run, run_id)
        if run is None or run.end_ms is None:
            raise NotFoundError(f"no finished run {run_id!r}", run_id=run_id)
        experiment = session.get(Experiment, run.experiment_id)
        assert experiment is not None
        earlier = session.scalars(
            _finished(run.experiment_id)
            .where((Run.end_ms < run.end_ms) | ((Run.end_ms == run.end_ms) & (Run.id < run.id)))
            .order_by(Run.end_ms.desc(), Run.id.desc())
            .limit(1)
        ).first()
        return experiment.name, earlier.id if earlier is not None else None


def compare_runs(
    store: Store,
    run_id: str,
    *,
    directions: Mapping[str, Direction] | None = None,
    metrics: Sequence[str] | None = None,
    top_k: int = 3,
    importance_method: str | None = None,
    columns: Sequence[str] | None = None,
    drift_method: str | None = None,
    drift_threshold: float | None = None,
    sections: Iterable[str] = SECTIONS,
) -> RunComparison:
    """Compare finished run `run_id` with the one of its experiment that finished before it."""
    experiment, reference = previous_run(store, run_id)
    if reference is None:
        return RunComparison(experiment, run_id, None, Sections(missing=("no earlier run",)))
    found = compare_trained(
        store,
        Trained(label=f"run {run_id[:8]}", run_id=run_id),
        Trained(label=f"run {reference[:8]}", run_id=reference),
        directions=directions,
        metrics=metrics,
        top_k=top_k,
        importance_method=importance_method,
        columns=columns,
        drift_method=drift_method,
        drift_threshold=drift_threshold,
        sections=sections,
    )
    return RunComparison(experiment, run_id, reference, found)
