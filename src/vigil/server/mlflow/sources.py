"""Reading an existing MLflow store, without MLflow: the file layout (`mlruns/`) or an MLflow
SQLite database, into plain values that `vigil.server.mlflow.importer` writes into Vigil."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from vigil.errors import InvalidInputError, NotFoundError

_FILE_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

MetricRow = tuple[str, float, int, int]
"""(key, value, step, timestamp in ms)."""


@dataclass
class SourceExperiment:
    id: str
    name: str
    lifecycle_stage: str
    created_ms: int
    updated_ms: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceRun:
    id: str
    experiment_id: str
    name: str
    status: str
    start_ms: int
    end_ms: int | None
    user: str
    lifecycle_stage: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: list[MetricRow]
    artifacts: Path | None
    """The run's artifact folder, when it is a local folder that exists."""


@dataclass
class SourceVersion:
    version: int
    source: str
    run_id: str | None
    description: str
    tags: dict[str, str]
    files: Path | None
    """The version's files (its storage location), when a local folder that exists."""


@dataclass
class SourceModel:
    name: str
    description: str
    tags: dict[str, str]
    versions: list[SourceVersion]
    aliases: dict[str, int]


class MlflowSource:
    """What an MLflow store holds: experiments, runs (read lazily) and registered models."""

    def experiments(self) -> list[SourceExperiment]:
        raise NotImplementedError

    def runs(self) -> Iterator[SourceRun]:
        raise NotImplementedError

    def models(self) -> list[SourceModel]:
        raise NotImplementedError


def local_folder(uri: str | None, base: Path | None = None) -> Path | None:
    """The local folder an MLflow artifact URI names (`file:///x`, `/x`, a relative path), if
    it exists; None for a remote URI (s3://, mlflow-artifacts:/, ...)."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        path = Path(uri)
        if not path.is_absolute() and base is not None:
            path = base / path
    else:
        return None
    return path if path.is_dir() else None


def _undupe(points: list[MetricRow]) -> list[MetricRow]:
    """Exact repeats removed (MLflow 3 re-logs a run's points for a logged model; its database
    keeps one of each)."""
    seen: set[tuple[str, str, int, int]] = set()
    out = []
    for key, value, step, stamp in points:
        marker = (key, repr(value), step, stamp)
        if marker not in seen:
            seen.add(marker)
            out.append((key, value, step, stamp))
    return out


# the file layout ------------------------------------------------------------------------------


def _yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    return loaded if isinstance(loaded, dict) else {}


def _key_files(folder: Path) -> dict[str, str]:
    """Files under `folder` as {relative path with '/': content} (MLflow's params and tags)."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _number(raw: Any, default: int = 0) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


class FileStoreSource(MlflowSource):
    """An `mlruns/` folder: `<experiment>/meta.yaml`, `<experiment>/<run>/{meta.yaml, params,
    metrics, tags, artifacts}`, `models/<name>/{meta.yaml, version-<n>, aliases, tags}`;
    deleted experiments in `.trash/`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _experiment_folders(self) -> list[Path]:
        folders = [p for p in self.root.iterdir() if p.is_dir() and (p / "meta.yaml").is_file()]
        trash = self.root / ".trash"
        if trash.is_dir():
            folders += [p for p in trash.iterdir() if p.is_dir() and (p / "meta.yaml").is_file()]
        return sorted(folders, key=lambda p: p.name)

    def experiments(self) -> list[SourceExperiment]:
        out = []
        for folder in self._experiment_folders():
            meta = _yaml(folder / "meta.yaml")
            out.append(
                SourceExperiment(
                    id=str(meta.get("experiment_id", folder.name)),
                    name=str(meta.get("name", folder.name)),
                    lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
                    created_ms=_number(meta.get("creation_time")),
                    updated_ms=_number(meta.get("last_update_time")),
                    tags=_key_files(folder / "tags"),
                )
            )
        return out

    def runs(self) -> Iterator[SourceRun]:
        for folder in self._experiment_folders():
            for run_folder in sorted(folder.iterdir()):
                meta_path = run_folder / "meta.yaml"
                if run_folder.name == "models" or not meta_path.is_file():
                    continue
                meta = _yaml(meta_path)
                points: list[MetricRow] = []
                metrics = run_folder / "metrics"
                if metrics.is_dir():
                    for file in sorted(p for p in metrics.rglob("*") if p.is_file()):
                        key = file.relative_to(metrics).as_posix()
                        for line in file.read_text().splitlines():
                            parts = line.split()
                            if len(parts) >= 2:
                                step = int(parts[2]) if len(parts) > 2 else 0
                                points.append((key, float(parts[1]), step, int(parts[0])))
                status = meta.get("status")
                end = meta.get("end_time")
                yield SourceRun(
                    id=str(meta.get("run_id") or run_folder.name),
                    experiment_id=str(meta.get("experiment_id", folder.name)),
                    name=str(meta.get("run_name") or ""),
                    status=_FILE_STATUSES.get(_number(status), str(status or "FINISHED")),
                    start_ms=_number(meta.get("start_time")),
                    end_ms=None if end is None else _number(end),
                    user=str(meta.get("user_id") or ""),
                    lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
                    params=_key_files(run_folder / "params"),
                    tags=_key_files(run_folder / "tags"),
                    metrics=_undupe(points),
                    artifacts=local_folder(meta.get("artifact_uri"))
                    or local_folder(str(run_folder / "artifacts")),
                )

    def _logged_model_folder(self, model_id: str) -> Path | None:
        for folder in self._experiment_folders():
            candidate = folder / "models" / model_id / "artifacts"
            if candidate.is_dir():
                return candidate
        return None

    def models(self) -> list[SourceModel]:
        root = self.root / "models"
        out: list[SourceModel] = []
        if not root.is_dir():
            return out
        for folder in sorted(p for p in root.iterdir() if (p / "meta.yaml").is_file()):
            meta = _yaml(folder / "meta.yaml")
            versions = []
            for version_folder in folder.glob("version-*"):
                vmeta = _yaml(version_folder / "meta.yaml")
                source = str(vmeta.get("source") or "")
                files = local_folder(vmeta.get("storage_location")) or local_folder(source)
                if files is None and source.startswith("models:/m-"):
                    files = self._logged_model_folder(source[len("models:/") :])
                versions.append(
                    SourceVersion(
                        version=_number(vmeta.get("version")),
                        source=source,
                        run_id=vmeta.get("run_id") or None,
                        description=str(vmeta.get("description") or ""),
                        tags=_key_files(version_folder / "tags"),
                        files=files,
                    )
                )
            aliases = {k: _number(v) for k, v in (meta.get("aliases") or {}).items()}
            aliases.update({k: _number(v) for k, v in _key_files(folder / "aliases").items()})
            out.append(
                SourceModel(
                    name=str(meta.get("name") or folder.name),
                    description=str(meta.get("description") or ""),
                    tags=_key_files(folder / "tags"),
                    versions=sorted(versions, key=lambda v: v.version),
                    aliases=aliases,
                )
            )
        return out


# the SQLite database ----------------------------------------------------------------------


class SqliteSource(MlflowSource):
    """An MLflow tracking database in SQLite (`sqlite:///mlflow.db`), read only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in self.connection.execute("SELECT name FROM sqlite_master")}
        if not {"experiments", "runs", "metrics", "params"} <= tables:
            raise InvalidInputError(
                f"{str(path)!r} is a SQLite database but not an MLflow store (it has no "
                "experiments, runs, metrics and params tables)",
                path=str(path),
            )
        self.tables = tables

    def _rows(self, query: str, *args: Any) -> list[Any]:
        return list(self.connection.execute(query, args))

    def experiments(self) -> list[SourceExperiment]:
        tags: dict[str, dict[str, str]] = {}
        for key, value, experiment_id in self._rows(
            "SELECT key, value, experiment_id FROM experiment_tags"
        ):
            tags.setdefault(str(experiment_id), {})[key] = value or ""
        return [
            SourceExperiment(
                id=str(i),
                name=name,
                lifecycle_stage=stage or "active",
                created_ms=created or 0,
                updated_ms=updated or 0,
                tags=tags.get(str(i), {}),
            )
            for i, name, stage, created, updated in self._rows(
                "SELECT experiment_id, name, lifecycle_stage, creation_time, last_update_time "
                "FROM experiments ORDER BY experiment_id"
            )
        ]

    def runs(self) -> Iterator[SourceRun]:
        base = self.path.parent
        for row in self._rows(
            "SELECT run_uuid, experiment_id, name, status, start_time, end_time, user_id, "
            "lifecycle_stage, artifact_uri FROM runs ORDER BY start_time"
        ):
            run_id, experiment_id, name, status, start, end, user, stage, artifact_uri = row
            params = dict(self._rows("SELECT key, value FROM params WHERE run_uuid = ?", run_id))
            tags = dict(self._rows("SELECT key, value FROM tags WHERE run_uuid = ?", run_id))
            points = [
                (key, math.nan if is_nan else float(value), int(step or 0), int(stamp or 0))
                for key, value, step, stamp, is_nan in self._rows(
                    "SELECT key, value, step, timestamp, is_nan FROM metrics "
                    "WHERE run_uuid = ? ORDER BY key, step, timestamp",
                    run_id,
                )
            ]
            yield SourceRun(
                id=run_id,
                experiment_id=str(experiment_id),
                name=name or "",
                status=str(status or "FINISHED"),
                start_ms=int(start or 0),
                end_ms=None if end is None else int(end),
                user=user or "",
                lifecycle_stage=stage or "active",
                params={k: v or "" for k, v in params.items()},
                tags={k: v or "" for k, v in tags.items()},
                metrics=_undupe(points),
                artifacts=local_folder(artifact_uri, base),
            )

    def models(self) -> list[SourceModel]:
        if "registered_models" not in self.tables:
            return []
        base = self.path.parent
        logged: dict[str, str] = {}
        if "logged_models" in self.tables:
            logged = dict(self._rows("SELECT model_id, artifact_location FROM logged_models"))
        out = []
        for name, description in self._rows(
            "SELECT name, description FROM registered_models ORDER BY name"
        ):
            tags = dict(
                self._rows("SELECT key, value FROM registered_model_tags WHERE name = ?", name)
            )
            versions = []
            for version, source, run_id, vdescription, storage in self._rows(
                "SELECT version, source, run_id, description, storage_location "
                "FROM model_versions WHERE name = ? ORDER BY version",
                name,
            ):
                files = local_folder(storage, base) or local_folder(source, base)
                if files is None and str(source).startswith("models:/m-"):
                    files = local_folder(logged.get(str(source)[len("models:/") :]), base)
                vtags = dict(
                    self._rows(
                        "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                        name,
                        version,
                    )
                )
                versions.append(
                    SourceVersion(
                        version=int(version),
                        source=str(source or ""),
                        run_id=run_id or None,
                        description=vdescription or "",
                        tags={k: v or "" for k, v in vtags.items()},
                        files=files,
                    )
                )
            aliases = {
                alias: int(version)
                for alias, version in self._rows(
                    "SELECT alias, version FROM registered_model_aliases WHERE name = ?", name
                )
            }
            out.append(
                SourceModel(
                    name=name,
                    description=description or "",
                    tags={k: v or "" for k, v in tags.items()},
                    versions=versions,
                    aliases=aliases,
                )
            )
        return out


def open_source(uri: str) -> MlflowSource:
    """The MLflow store at `uri`: `sqlite:///path/mlflow.db`, or an `mlruns` folder (a path or
    `file://` URI). A missing path or something that is not an MLflow store is an error saying
    what was found."""
    if uri.startswith("sqlite:"):
        path = Path(uri.split(":///", 1)[-1] if ":///" in uri else uri[len("sqlite:") :])
        if not path.is_file():
            raise NotFoundError(f"no MLflow database at {str(path)!r} (from {uri!r})", uri=uri)
        try:
            return SqliteSource(path)
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(
                f"{str(path)!r} is not a SQLite database ({exc})", uri=uri
            ) from None
    if "://" in uri and not uri.startswith("file:"):
        raise InvalidInputError(
            f"cannot import {uri!r}: give an mlruns folder or sqlite:///path/mlflow.db "
            "(for another database, export it with `mlflow` first)",
            uri=uri,
        )
    path = Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)
    if not path.exists():
        raise NotFoundError(f"no MLflow store at {str(path)!r}", uri=uri)
    if not path.is_dir():
        raise InvalidInputError(
            f"{str(path)!r} is a file; give an mlruns folder or sqlite:///{path}", uri=uri
        )
    looks_like_mlruns = any((p / "meta.yaml").is_file() for p in path.iterdir() if p.is_dir())
    if not looks_like_mlruns and not (path / "models").is_dir():
        raise InvalidInputError(
            f"{str(path)!r} is not an MLflow store: no experiment folder with a meta.yaml in it",
            uri=uri,
        )
    return FileStoreSource(path)
