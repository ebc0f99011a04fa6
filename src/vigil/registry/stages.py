"""Model-version stages (`None`, `Staging`, `Production`, `Archived`), for MLflow scripts that
still use them (MLflow deprecated stages for aliases, which Vigil's own API uses).

A version has one stage; several versions may share one. Moving a version to `Staging` or
`Production` may archive the versions that were there (`archive_existing`). Each move is a
`stage_changed` event in the model's log (from, to), like every other registry change.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import InvalidInputError
from vigil.registry.core import RegistryCore
from vigil.registry.repository import find_model, version_row
from vigil.store.mlflow_tables import MlflowVersionState
from vigil.store.registry_tables import RegistryModelVersion

STAGES: tuple[str, ...] = ("None", "Staging", "Production", "Archived")
ACTIVE_STAGES: tuple[str, ...] = ("Staging", "Production")


def canonical_stage(stage: str) -> str:
    """`stage` spelled as MLflow spells it (any case is accepted); InvalidInputError otherwise."""
    for known in STAGES:
        if stage.strip().lower() == known.lower():
            return known
    raise InvalidInputError(
        f"Invalid Model Version stage: {stage!r}; the stages are {', '.join(STAGES)}",
        stage=stage,
    )


def version_states(session: Session, version_ids: Iterable[int]) -> dict[int, MlflowVersionState]:
    """The stage rows of these versions (a version without one is in stage `None`)."""
    ids = list(version_ids)
    if not ids:
        return {}
    rows = session.scalars(select(MlflowVersionState).where(MlflowVersionState.version_id.in_(ids)))
    return {row.version_id: row for row in rows}


def version_state(session: Session, version_id: int, now_ms: int) -> MlflowVersionState:
    """The version's stage row, made (stage `None`) when it has none yet."""
    row = session.get(MlflowVersionState, version_id)
    if row is None:
        row = MlflowVersionState(version_id=version_id, stage="None", updated_ms=now_ms)
        session.add(row)
    return row


class StageOperations(RegistryCore):
    """The stage operations of `Registry`."""

    def _now_ms(self) -> int:
        return int(self._now().timestamp() * 1000)

    def transition_stage(
        self, name: str, version: int, stage: str, *, archive_existing: bool = False
    ) -> str:
        """Move `version` to `stage` (returned as MLflow spells it). With `archive_existing`,
        the model's other versions in that stage (`Staging` or `Production` only) move to
        `Archived` first."""
        stage = canonical_stage(stage)
        if archive_existing and stage not in ACTIVE_STAGES:
            raise InvalidInputError(
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage (the active stages: "
                f"{', '.join(ACTIVE_STAGES)})",
                stage=stage,
            )
        with self.store.session() as session:
            model = find_model(session, name, lock=True)
            row = version_row(session, model, version)
            now = self._now_ms()
            moves: list[tuple[int, int, str]] = []
            if archive_existing:
                others = session.execute(
                    select(RegistryModelVersion.id, RegistryModelVersion.version)
                    .join(
                        MlflowVersionState, MlflowVersionState.version_id == RegistryModelVersion.id
                    )
                    .where(
                        RegistryModelVersion.model_id == model.id,
                        RegistryModelVersion.id != row.id,
                        MlflowVersionState.stage == stage,
                    )
                    .order_by(RegistryModelVersion.version)
                ).all()
                moves.extend((version_id, number, "Archived") for version_id, number in others)
            moves.append((row.id, row.version, stage))
            for version_id, number, to in moves:
                state = version_state(session, version_id, now)
                before = state.stage
                state.stage, state.updated_ms = to, now
                self._event(
                    session,
                    model,
                    "stage_changed",
                    to_version=number,
                    details={"from": before, "to": to},
                )
            session.commit()
        return stage
