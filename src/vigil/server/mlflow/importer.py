"""`vigil import mlflow URI`: an existing MLflow store brought into Vigil.

Experiments are matched by name (MLflow's numeric ids do not fit Vigil's); runs keep their ids,
so a run already in Vigil is skipped and importing twice changes nothing. Each run brings its
params, tags, status, times, every metric point (exact repeats dropped, as MLflow's database
does) and its artifact files. Registered models bring their description, tags, versions (the
version's files, packed like any registry version) and aliases; a version already imported is
recognised by its MLflow source and skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

from vigil.errors import InvalidInputError, NotFoundError
from vigil.registry.packaging import pack
from vigil.registry.repository import aliases_of, find_model, version_row
from vigil.registry.service import Registry
from vigil.server.mlflow.artifacts_api import registry_folder
from vigil.server.mlflow.errors import MlflowApiError
from vigil.server.mlflow.sources import MlflowSource, SourceModel, SourceRun
from vigil.server.mlflow.tracking_api import from_mlflow_status
from vigil.store.core import Store
from vigil.store.mlflow_tables import MlflowVersionSource
from vigil.store.registry_tables import RegistryModelVersion
from vigil.store.tracking_tables import Experiment, ExperimentTag, Run
from vigil.tracking.checks import check_artifact_path
from vigil.tracking.service import TrackingService

BATCH = 100_000


@dataclass
class ImportReport:
    """What an import did; `warnings` name what could not be brought (and why)."""

    experiments_created: int = 0
    runs_imported: int = 0
    runs_skipped: int = 0
    metric_points: int = 0
    artifacts: int = 0
    models_created: int = 0
    versions_imported: int = 0
    versions_skipped: int = 0
    aliases_set: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _status(status: str) -> str:
    try:
        return from_mlflow_status(status).value
    except MlflowApiError:
        return "running"


class MlflowImporter:
    """Writes what an `MlflowSource` holds into a Vigil store, as `actor`."""

    def __init__(
        self, store: Store, actor: str, progress: Callable[[str], None] | None = None
    ) -> None:
        self.store = store
        self.actor = actor
        self.tracking = TrackingService(store)
        self.registry = Registry(store, actor=actor)
        self.progress = progress or (lambda _: None)

    def run(self, source: MlflowSource) -> ImportReport:
        report = ImportReport()
        experiment_ids = self._experiments(source, report)
        for run in source.runs():
            target = experiment_ids.get(run.experiment_id)
            if target is None:
                report.warnings.append(f"run {run.id}: its experiment {run.experiment_id} is gone")
                continue
            self._run(run, target, report)
        for model in source.models():
            self._model(model, report)
        return report

    def _experiments(self, source: MlflowSource, report: ImportReport) -> dict[str, int]:
        ids: dict[str, int] = {}
        for experiment in source.experiments():
            with self.store.session() as session:
                row = session.scalars(
                    select(Experiment).where(Experiment.name == experiment.name)
                ).first()
                if row is None:
                    row = Experiment(
                        name=experiment.name,
                        owner=self.actor,
                        artifact_location="",
                        lifecycle_stage=experiment.lifecycle_stage,
                        created_ms=experiment.created_ms,
                        updated_ms=experiment.updated_ms or experiment.created_ms,
                    )
                    session.add(row)
                    session.flush()
                    row.artifact_location = f"experiments/{row.id}"
                    report.experiments_created += 1
                for key, value in experiment.tags.items():
                    session.merge(ExperimentTag(experiment_id=row.id, key=key, value=value))
                ids[experiment.id] = row.id
                session.commit()
        return ids

    def _run(self, run: SourceRun, experiment_id: int, report: ImportReport) -> None:
        if len(run.id) > 32:
            report.warnings.append(f"run {run.id}: the id is longer than 32 characters; skipped")
            return
        with self.store.session() as session:
            if session.get(Run, run.id) is not None:
                report.runs_skipped += 1
                return
            session.add(
                Run(
                    id=run.id,
                    experiment_id=experiment_id,
                    name=run.name or run.tags.get("mlflow.runName", "") or f"run-{run.id[:8]}",
                    status=_status(run.status),
                    start_ms=run.start_ms,
                    end_ms=run.end_ms,
                    owner=run.user,
                    parent_id=None,
                    artifact_location=f"runs/{run.id}",
                    lifecycle_stage=run.lifecycle_stage,
                )
            )
            session.commit()
        try:
            self.tracking.log_batch(run.id, params=run.params, tags=run.tags)
            for start in range(0, len(run.metrics), BATCH):
                self.tracking.log_batch(run.id, metrics=run.metrics[start : start + BATCH])
            report.metric_points += len(run.metrics)
            if run.artifacts is not None:
                report.artifacts += self._artifacts(run, report)
        except BaseException:
            # a run is imported whole or not at all, so a second import can finish the job
            with self.store.session() as session:
                row = session.get(Run, run.id)
                if row is not None:
                    session.delete(row)
                    session.commit()
            raise
        parent = run.tags.get("mlflow.parentRunId")
        if parent:
            with self.store.session() as session:
                row = session.get(Run, run.id)
                if row is not None and session.get(Run, parent) is not None:
                    row.parent_id = parent
                    session.commit()
        report.runs_imported += 1
        self.progress(f"run {run.id} ({run.name}): {len(run.metrics)} metric points")

    def _artifacts(self, run: SourceRun, report: ImportReport) -> int:
        assert run.artifacts is not None
        count = 0
        for file in sorted(p for p in run.artifacts.rglob("*") if p.is_file()):
            relative = file.relative_to(run.artifacts).as_posix()
            try:
                check_artifact_path(relative)
            except InvalidInputError as exc:
                report.warnings.append(f"run {run.id}: artifact skipped: {exc.message}")
                continue
            self.tracking.put_artifact(run.id, relative, file.read_bytes())
            count += 1
        return count

    def _model(self, model: SourceModel, report: ImportReport) -> None:
        try:
            existing = self.registry.get_model(model.name)
        except NotFoundError:
            existing = None
        if existing is None:
            self.registry.create_model(
                model.name, description=model.description, tags=model.tags, owner=self.actor
            )
            report.models_created += 1
        numbers: dict[int, int] = {}
        for version in model.versions:
            already = self._imported_version(model.name, version.source, version.version)
            if already is not None:
                numbers[version.version] = already
                report.versions_skipped += 1
                continue
            if version.files is None:
                report.warnings.append(
                    f"model {model.name!r} version {version.version}: its files ({version.source}) "
                    "are not in a local folder; skipped"
                )
                continue
            info = self.registry.register_packed(
                model.name,
                pack(Path(version.files)),
                run_id=version.run_id,
                tags=version.tags,
                description=version.description,
            )
            with self.store.session() as session:
                row = version_row(session, find_model(session, model.name), info.version)
                session.add(
                    MlflowVersionSource(
                        version_id=row.id,
                        source=version.source,
                        storage_path=registry_folder(model.name, info.version),
                        model_id=None,
                        run_link=f"mlflow-import:{version.version}",
                    )
                )
                session.commit()
            numbers[version.version] = info.version
            report.versions_imported += 1
        with self.store.session() as session:
            current = aliases_of(session, find_model(session, model.name))
        for alias, number in sorted(model.aliases.items()):
            target = numbers.get(number)
            if target is None:
                report.warnings.append(
                    f"model {model.name!r}: alias @{alias} points at version {number}, which was "
                    "not imported"
                )
                continue
            if current.get(alias) != target:
                self.registry.set_alias(model.name, alias, target)
                report.aliases_set += 1

    def _imported_version(self, name: str, source: str, number: int) -> int | None:
        """The Vigil version an earlier import made of MLflow version `number`, if any."""
        with self.store.session() as session:
            row = session.execute(
                select(RegistryModelVersion.version)
                .join(
                    MlflowVersionSource, MlflowVersionSource.version_id == RegistryModelVersion.id
                )
                .where(
                    RegistryModelVersion.model_id == find_model(session, name).id,
                    MlflowVersionSource.source == source,
                    MlflowVersionSource.run_link == f"mlflow-import:{number}",
                )
            ).first()
            return None if row is None else int(row[0])


def import_mlflow(
    store: Store, source: MlflowSource, *, actor: str, progress: Callable[[str], None] | None = None
) -> ImportReport:
    """Import everything `source` holds into `store` (idempotent)."""
    started = dt.datetime.now(dt.UTC)
    report = MlflowImporter(store, actor, progress).run(source)
    if progress is not None:
        progress(f"done in {(dt.datetime.now(dt.UTC) - started).total_seconds():.1f} s")
    return report
