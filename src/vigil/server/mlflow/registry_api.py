"""MLflow's model registry API on Vigil's registry (`vigil.registry.service.Registry`).

A version created through MLflow names a `source` (MLflow 3: `models:/<logged model id>`;
older clients: `runs:/<run id>/<path>` or `mlflow-artifacts:/<path>`). Its files must be in this
server's proxied artifact tree; they are packed into an ordinary registry version (an MLflow
model folder, loadable with `vigil.models.load`), and the source is remembered so that
`get-download-uri` answers the folder MLflow wrote. Versions registered through Vigil are served
to MLflow from `_registry/<model>/<version>`. Stages (deprecated in MLflow, kept for the scripts
that still use them) are `vigil.registry.stages`; the searches order as MLflow orders
(`vigil.server.mlflow.ordering`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.errors import NotFoundError
from vigil.registry.archives import DEFAULT_LIMITS, ArchiveLimits, check_folder
from vigil.registry.packaging import pack
from vigil.registry.repository import alias_row, aliases_of, find_model, version_row
from vigil.registry.service import Registry
from vigil.registry.stages import STAGES, canonical_stage, version_state
from vigil.registry.types import check_model_name
from vigil.server.mlflow import filters
from vigil.server.mlflow.artifacts_api import MlflowArtifacts, clean_path, registry_folder
from vigil.server.mlflow.errors import exists, invalid, missing
from vigil.server.mlflow.ordering import (
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    model_version_field,
    registered_model_field,
)
from vigil.server.mlflow.tracking_api import run_artifact_folder
from vigil.server.mlflow.wire import (
    Payload,
    integer,
    key_values,
    ms_of,
    optional_text,
    pairs,
    strings,
    text,
)
from vigil.store.core import Store
from vigil.store.mlflow_tables import MlflowLoggedModel, MlflowVersionSource, MlflowVersionState
from vigil.store.registry_tables import RegisteredModel, RegistryAlias, RegistryModelVersion
from vigil.store.tracking_tables import Run
from vigil.tracking.checks import now_ms
from vigil.tracking.search import decode_page_token, encode_page_token


def _version_number(body: Payload) -> int:
    number = integer(body, "version")
    if number is None:
        raise invalid("Missing value for required parameter 'version'.")
    return number


class MlflowRegistry:
    """MLflow's registry operations on a Vigil store, recorded as done by `user`."""

    def __init__(self, store: Store, user: str, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        self.store = store
        self.user = user
        self.registry = Registry(store, actor=user)
        self.artifacts = MlflowArtifacts(store, limits=limits)

    # JSON shapes ------------------------------------------------------------------------------

    def _version_json(
        self, session: Session, model: RegisteredModel, row: RegistryModelVersion
    ) -> dict[str, Any]:
        source = session.get(MlflowVersionSource, row.id)
        state = session.get(MlflowVersionState, row.id)
        aliases = [a for a, v in aliases_of(session, model).items() if v == row.version]
        out: dict[str, Any] = {
            "name": model.name,
            "version": str(row.version),
            "creation_timestamp": ms_of(row.created_at),
            "last_updated_timestamp": _last_updated_ms(row, state),
            "user_id": row.created_by,
            "current_stage": "None" if state is None else state.stage,
            "description": row.description,
            "source": source.source
            if source is not None
            else "mlflow-artifacts:/" + registry_folder(model.name, row.version),
            "run_id": row.run_id or "",
            "status": "READY",
            "tags": pairs(row.tags),
            "run_link": source.run_link if source is not None else "",
            "aliases": aliases,
        }
        if source is not None and source.model_id:
            out["model_id"] = source.model_id
        return out

    @staticmethod
    def _latest_by_stage(session: Session, model: RegisteredModel) -> dict[str, int]:
        """The newest version number in each stage that has one, in MLflow's stage order."""
        rows = session.execute(
            select(RegistryModelVersion.version, MlflowVersionState.stage)
            .outerjoin(MlflowVersionState, MlflowVersionState.version_id == RegistryModelVersion.id)
            .where(RegistryModelVersion.model_id == model.id)
        )
        latest: dict[str, int] = {}
        for number, stage in rows:
            stage = stage or "None"
            latest[stage] = max(number, latest.get(stage, number))
        return {stage: latest[stage] for stage in STAGES if stage in latest}

    def _latest_json(
        self, session: Session, model: RegisteredModel, stages: list[str] | None = None
    ) -> list[dict[str, Any]]:
        latest = self._latest_by_stage(session, model)
        return [
            self._version_json(session, model, self._version(session, model, number))
            for stage, number in latest.items()
            if stages is None or stage in stages
        ]

    def _model_json(self, session: Session, model: RegisteredModel) -> dict[str, Any]:
        return {
            "name": model.name,
            "creation_timestamp": ms_of(model.created_at),
            "last_updated_timestamp": ms_of(model.updated_at),
            "user_id": model.owner,
            "description": model.description,
            "latest_versions": self._latest_json(session, model),
            "tags": pairs(model.tags),
            "aliases": [
                {"alias": a, "version": str(v)} for a, v in aliases_of(session, model).items()
            ],
        }

    @staticmethod
    def _model(session: Session, name: str, *, lock: bool = False) -> RegisteredModel:
        try:
            return find_model(session, name, lock=lock)
        except NotFoundError as exc:
            raise missing(f"Registered Model with name={name} not found", model=name) from exc

    @staticmethod
    def _version(session: Session, model: RegisteredModel, number: int) -> RegistryModelVersion:
        try:
            return version_row(session, model, number)
        except NotFoundError as exc:
            raise missing(f"Model Version (name={model.name}, version={number}) not found") from exc

    # registered models ------------------------------------------------------------------------

    def create_registered_model(self, body: Payload) -> dict[str, Any]:
        name = check_model_name(text(body, "name"))
        with self.store.session() as session:
            if session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).first():
                raise exists(f"Registered Model (name={name}) already exists.", model=name)
        self.registry.create_model(
            name,
            description=optional_text(body, "description") or "",
            tags=key_values(body, "tags"),
            owner=self.user,
        )
        return self.get_registered_model({"name": name})

    def get_registered_model(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            model = self._model(session, text(body, "name"))
            return {"registered_model": self._model_json(session, model)}

    def rename_registered_model(self, body: Payload) -> dict[str, Any]:
        new_name = check_model_name(text(body, "new_name"))
        with self.store.session() as session:
            model = self._model(session, text(body, "name"), lock=True)
            taken = session.scalars(select(RegisteredModel).where(RegisteredModel.name == new_name))
            if any(m.id != model.id for m in taken):
                raise exists(f"Registered Model (name={new_name}) already exists.")
            model.name = new_name
            model.updated_at = dt.datetime.now(dt.UTC)
            session.commit()
            return {"registered_model": self._model_json(session, model)}

    def update_registered_model(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            model = self._model(session, text(body, "name"), lock=True)
            model.description = optional_text(body, "description") or ""
            model.updated_at = dt.datetime.now(dt.UTC)
            session.commit()
            return {"registered_model": self._model_json(session, model)}

    def delete_registered_model(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            model = self._model(session, text(body, "name"), lock=True)
            keys = list(
                session.scalars(
                    select(RegistryModelVersion.source_key).where(
                        RegistryModelVersion.model_id == model.id
                    )
                )
            )
            session.delete(model)
            session.commit()
        for key in keys:
            self.store.artifacts.delete(key)
        return {}

    def search_registered_models(self, body: Payload) -> dict[str, Any]:
        max_results = integer(body, "max_results", 100) or 100
        if not 1 <= max_results <= 1000:
            raise invalid(f"Invalid value {max_results} for parameter 'max_results'")
        offset = decode_page_token(optional_text(body, "page_token"))
        columns = {"name": RegisteredModel.name, "description": RegisteredModel.description}
        clauses = filters.parse_simple(optional_text(body, "filter"))
        tag_clauses = [c for c in clauses if c.name.startswith("tags.")]
        condition = filters.compile_simple(
            [c for c in clauses if not c.name.startswith("tags.")], columns, what="models"
        )
        order_by = strings(body, "order_by")
        REGISTERED_MODELS.parse(order_by)  # refused before the search runs
        with self.store.session() as session:
            rows = list(session.scalars(select(RegisteredModel).where(condition)))
            rows = [r for r in rows if filters.tags_match(r.tags, tag_clauses)]
            rows = REGISTERED_MODELS.sort(rows, order_by, registered_model_field)
            page = rows[offset : offset + max_results]
            out: dict[str, Any] = {
                "registered_models": [self._model_json(session, m) for m in page]
            }
        if offset + max_results < len(rows):
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out

    def get_latest_versions(self, body: Payload) -> dict[str, Any]:
        """The newest version in each stage (in each of `stages` when given)."""
        stages = [canonical_stage(s) for s in strings(body, "stages")] or None
        with self.store.session() as session:
            model = self._model(session, text(body, "name"))
            return {"model_versions": self._latest_json(session, model, stages)}

    def set_registered_model_tag(self, body: Payload) -> dict[str, Any]:
        name = text(body, "name")
        with self.store.session() as session:
            tags = dict(self._model(session, name).tags)
        tags[text(body, "key")] = text(body, "value", default="")
        self.registry.set_model_tags(name, tags)
        return {}

    def delete_registered_model_tag(self, body: Payload) -> dict[str, Any]:
        name, key = text(body, "name"), text(body, "key")
        with self.store.session() as session:
            tags = dict(self._model(session, name).tags)
        if key not in tags:
            raise missing(f"No tag with name: {key} on registered model {name}")
        del tags[key]
        self.registry.set_model_tags(name, tags)
        return {}

    # versions ---------------------------------------------------------------------------------

    def _source_folder(self, source: str, model_id: str | None) -> tuple[str, str | None]:
        """The proxied folder that holds the files of `source`, and the source run of the
        logged model it names (None when it names none, or the model has no run)."""
        with self.store.session() as session:
            logged_id = model_id
            if logged_id is None and source.startswith("models:/m-"):
                logged_id = source[len("models:/") :].strip("/")
            if logged_id:
                logged = session.get(MlflowLoggedModel, logged_id)
                if logged is None:
                    raise missing(f"Logged model with ID '{logged_id}' not found.")
                return logged.artifact_path, logged.source_run_id
            if source.startswith("runs:/"):
                run_part, _, inner = source[len("runs:/") :].partition("/")
                run = session.get(Run, run_part)
                if run is None:
                    raise missing(f"Run with id={run_part} not found")
                base = run_artifact_folder(run.experiment_id, run.id)
                return (f"{base}/{clean_path(inner)}" if clean_path(inner) else base), None
        if source.startswith("mlflow-artifacts:"):
            rest = source[len("mlflow-artifacts:") :]
            if rest.startswith("//"):
                rest = rest[2:].partition("/")[2]  # mlflow-artifacts://host:port/<path>
            return clean_path(rest), None
        raise invalid(
            f"model version source {source!r} is not in this server's artifact store; Vigil "
            "registers files it holds: log the model to a run of this server first (source "
            "models:/<model id>, runs:/<run id>/<path> or mlflow-artifacts:/<path>)",
            source=source,
        )

    def create_model_version(self, body: Payload) -> dict[str, Any]:
        name = text(body, "name")
        source = text(body, "source")
        model_id = optional_text(body, "model_id") or None
        run_id = optional_text(body, "run_id") or None
        with self.store.session() as session:
            self._model(session, name)
        folder, logged_run_id = self._source_folder(source, model_id)
        files = self.artifacts.files_under(folder)
        if not files:
            raise invalid(f"the source {source!r} holds no files (folder {folder!r})")
        check_folder(files, self.artifacts.limits)  # before its bytes are read and packed
        with tempfile.TemporaryDirectory(prefix="vigil-mlflow-") as tmp:
            root = Path(tmp) / "model"
            for relative in files:
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.artifacts.get(f"{folder}/{relative}"))
            packed = pack(root)
        if run_id is None and model_id is not None:
            run_id = logged_run_id
        info = self.registry.register_packed(
            name,
            packed,
            run_id=run_id,
            tags=key_values(body, "tags"),
            description=optional_text(body, "description") or "",
        )
        with self.store.session() as session:
            model = self._model(session, name)
            row = self._version(session, model, info.version)
            session.add(
                MlflowVersionSource(
                    version_id=row.id,
                    source=source,
                    storage_path=folder,
                    model_id=model_id,
                    run_link=optional_text(body, "run_link") or "",
                )
            )
            session.commit()
            return {"model_version": self._version_json(session, model, row)}

    def get_model_version(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            model = self._model(session, text(body, "name"))
            row = self._version(session, model, _version_number(body))
            return {"model_version": self._version_json(session, model, row)}

    def update_model_version(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            model = self._model(session, text(body, "name"), lock=True)
            row = self._version(session, model, _version_number(body))
            description = optional_text(body, "description")
            if description is not None:
                row.description = description
                stamp = now_ms()
                version_state(session, row.id, stamp).updated_ms = stamp
            session.commit()
            return {"model_version": self._version_json(session, model, row)}

    def delete_model_version(self, body: Payload) -> dict[str, Any]:
        name, number = text(body, "name"), _version_number(body)
        with self.store.session() as session:
            model = self._model(session, name)
            self._version(session, model, number)
            aliases = [a for a, v in aliases_of(session, model).items() if v == number]
        for alias in aliases:  # through the registry, for its `alias_deleted` events
            self.registry.delete_alias(name, alias)
        with self.store.session() as session:
            model = self._model(session, name, lock=True)
            row = self._version(session, model, number)
            key = row.source_key
            # only an alias set since, racing this call, is left
            session.execute(
                delete(RegistryAlias).where(
                    RegistryAlias.model_id == model.id, RegistryAlias.version == row.version
                )
            )
            session.delete(row)
            session.commit()
        self.store.artifacts.delete(key)
        return {}

    def search_model_versions(self, body: Payload) -> dict[str, Any]:
        max_results = integer(body, "max_results", 10_000) or 10_000
        if not 1 <= max_results <= 200_000:
            raise invalid(f"Invalid value {max_results} for parameter 'max_results'")
        offset = decode_page_token(optional_text(body, "page_token"))
        clauses = filters.parse_simple(optional_text(body, "filter"))
        columns = {
            "name": RegisteredModel.name,
            "run_id": RegistryModelVersion.run_id,
            "version_number": RegistryModelVersion.version,
            "version": RegistryModelVersion.version,
            "source_path": MlflowVersionSource.source,
            "model_id": MlflowVersionSource.model_id,
        }
        tag_clauses = [c for c in clauses if c.name.startswith("tags.")]
        condition = filters.compile_simple(
            [c for c in clauses if not c.name.startswith("tags.")], columns, what="model versions"
        )
        query = (
            select(RegisteredModel, RegistryModelVersion, MlflowVersionState.updated_ms)
            .join(RegisteredModel, RegisteredModel.id == RegistryModelVersion.model_id)
            .outerjoin(
                MlflowVersionSource, MlflowVersionSource.version_id == RegistryModelVersion.id
            )
            .outerjoin(MlflowVersionState, MlflowVersionState.version_id == RegistryModelVersion.id)
            .where(condition)
        )
        order_by = strings(body, "order_by")
        MODEL_VERSIONS.parse(order_by)  # refused before the search runs
        with self.store.session() as session:
            rows = [
                (m, v, updated_ms)
                for m, v, updated_ms in session.execute(query).all()
                if filters.tags_match(v.tags, tag_clauses)
            ]
            rows = MODEL_VERSIONS.sort(rows, order_by, model_version_field)
            page = [(m, v) for m, v, _ in rows[offset : offset + max_results]]
            out: dict[str, Any] = {
                "model_versions": [self._version_json(session, m, v) for m, v in page]
            }
        if offset + max_results < len(rows):
            out["next_page_token"] = encode_page_token(offset + max_results)
        return out

    def get_download_uri(self, body: Payload) -> dict[str, Any]:
        with self.store.session() as session:
            model = self._model(session, text(body, "name"))
            row = self._version(session, model, _version_number(body))
            source = session.get(MlflowVersionSource, row.id)
            folder = (
                source.storage_path
                if source is not None
                else registry_folder(model.name, row.version)
            )
        return {"artifact_uri": "mlflow-artifacts:/" + folder}

    def set_model_version_tag(self, body: Payload) -> dict[str, Any]:
        name, number = text(body, "name"), _version_number(body)
        with self.store.session() as session:
            tags = dict(self._version(session, self._model(session, name), number).tags)
        tags[text(body, "key")] = text(body, "value", default="")
        self.registry.set_version_tags(name, number, tags)
        return {}

    def delete_model_version_tag(self, body: Payload) -> dict[str, Any]:
        name, number, key = text(body, "name"), _version_number(body), text(body, "key")
        with self.store.session() as session:
            tags = dict(self._version(session, self._model(session, name), number).tags)
        if key not in tags:
            raise missing(f"No tag with name: {key} on model version {name} {number}")
        del tags[key]
        self.registry.set_version_tags(name, number, tags)
        return {}

    def transition_stage(self, body: Payload) -> dict[str, Any]:
        """Move a version to a stage (`archive_existing_versions`: the model's other versions in
        that stage go to `Archived`)."""
        name, number = text(body, "name"), _version_number(body)
        archive = body.get("archive_existing_versions", False)
        if isinstance(archive, str) and archive.lower() in ("true", "false"):
            archive = archive.lower() == "true"
        if not isinstance(archive, bool):
            raise invalid(f"archive_existing_versions must be true or false, got {archive!r}")
        with self.store.session() as session:
            self._version(session, self._model(session, name), number)
        self.registry.transition_stage(name, number, text(body, "stage"), archive_existing=archive)
        return self.get_model_version({"name": name, "version": number})

    # aliases ----------------------------------------------------------------------------------

    def set_alias(self, body: Payload) -> dict[str, Any]:
        name, alias = text(body, "name"), text(body, "alias")
        number = _version_number(body)
        with self.store.session() as session:
            self._version(session, self._model(session, name), number)
        self.registry.set_alias(name, alias, number)
        return {}

    def delete_alias(self, body: Payload) -> dict[str, Any]:
        name = text(body, "name")
        with self.store.session() as session:
            self._model(session, name)
        self.registry.delete_alias(name, text(body, "alias"))
        return {}

    def get_by_alias(self, body: Payload) -> dict[str, Any]:
        name, alias = text(body, "name"), text(body, "alias")
        with self.store.session() as session:
            model = self._model(session, name)
            current = alias_row(session, model, alias)
            if current is None:
                raise missing(f"Registered model alias {alias} not found.", alias=alias)
            row = self._version(session, model, current.version)
            return {"model_version": self._version_json(session, model, row)}


def _last_updated_ms(row: RegistryModelVersion, state: MlflowVersionState | None) -> int:
    return ms_of(row.created_at) if state is None else state.updated_ms
