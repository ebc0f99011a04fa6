"""MLflow's proxied artifact store (`/api/2.0/mlflow-artifacts/artifacts/<path>`) on Vigil's.

The proxied tree is virtual; each path is mapped to where Vigil keeps the file:

- `<experiment id>/<run id>/artifacts/<path>`: the run's artifact `<path>` (the same file Vigil's
  `/api/v1/runs/{id}/artifacts` serves);
- `_registry/<model>/<version>/<path>`: the files of a registry version (unpacked from its
  archive when it is a folder), so versions registered through Vigil load in MLflow too;
- anything else (MLflow 3 logged models: `<experiment id>/models/<model id>/artifacts/...`):
  a file of its own, under an artifact-store key the server chooses.

Paths are relative and made of plain segments; `..`, empty segments and absolute paths are
refused, so a client never picks a storage key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.errors import NotFoundError
from vigil.registry.archives import DEFAULT_LIMITS, ArchiveLimits, tar_files
from vigil.registry.repository import find_model, version_row
from vigil.server.mlflow.errors import invalid, missing
from vigil.store.artifacts import read_current
from vigil.store.core import Store
from vigil.store.mlflow_tables import MlflowArtifactFile
from vigil.store.registry_tables import RegistryModelVersion
from vigil.store.tracking_tables import Run, RunArtifact
from vigil.tracking.checks import check_artifact_path
from vigil.tracking.service import TrackingService

_RUN_PATH = re.compile(r"^(?P<experiment>\d+)/(?P<run>[0-9a-f]{32})/artifacts(?:/(?P<rest>.*))?$")
_REGISTRY_PATH = re.compile(r"^_registry/(?P<name>[^/]+)/(?P<version>\d{1,18})(?:/(?P<rest>.*))?$")
REGISTRY_ROOT = "_registry"


@dataclass(frozen=True)
class FileEntry:
    path: str
    """The name relative to the listed folder."""
    is_dir: bool
    size: int | None


def clean_path(path: str) -> str:
    """`path` without surrounding slashes; InvalidInputError for `..`, `.` or empty segments."""
    stripped = path.strip("/")
    if not stripped:
        return ""
    segments = stripped.split("/")
    if any(s in ("", ".", "..") for s in segments) or "\\" in stripped or len(stripped) > 1000:
        raise invalid(f"artifact path {path!r} must be relative, without '.', '..' or '//'")
    return stripped


def registry_folder(name: str, version: int) -> str:
    """The proxied folder that serves a registry version's files."""
    return f"{REGISTRY_ROOT}/{name}/{version}"


class MlflowArtifacts:
    """Put, get, list and delete files in the proxied artifact tree."""

    def __init__(self, store: Store, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        self.store = store
        self.limits = limits
        self.tracking = TrackingService(store)

    def _run_of(self, session: Session, path: str) -> tuple[str, str] | None:
        """(run id, path inside the run) when `path` is in an existing run's folder."""
        match = _RUN_PATH.match(path)
        if match is None:
            return None
        run = session.get(Run, match["run"])
        if run is None or str(run.experiment_id) != match["experiment"]:
            return None
        return run.id, match["rest"] or ""

    def put(self, path: str, data: bytes) -> None:
        path = clean_path(path)
        if not path:
            raise invalid("an artifact upload needs a file path")
        with self.store.session() as session:
            in_run = self._run_of(session, path)
        if in_run is not None:
            run_id, inner = in_run
            self.tracking.put_artifact(run_id, check_artifact_path(inner), data)
            return
        if path.startswith(REGISTRY_ROOT + "/"):
            raise invalid("registry version folders are read-only; register a new version")
        for segment in path.split("/"):
            check_artifact_path(segment)
        # A replacement is a new key: readers see the old bytes until the commit, then the
        # new ones (`get` re-reads the name when the old key is gone); the old key is removed.
        key = f"mlflow/{uuid.uuid4().hex}"
        self.store.artifacts.put(key, data)
        try:
            with self.store.session() as session:
                old = session.get(MlflowArtifactFile, path)
                if old is not None:
                    old_key = old.key
                    session.delete(old)
                    session.flush()
                else:
                    old_key = None
                session.add(
                    MlflowArtifactFile(
                        path=path,
                        key=key,
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
                session.commit()
        except BaseException:
            self.store.artifacts.delete(key)
            raise
        if old_key is not None and old_key != key:
            self.store.artifacts.delete(old_key)

    def get(self, path: str) -> bytes:
        path = clean_path(path)
        match = _REGISTRY_PATH.match(path)
        if match is not None:
            files = self.registry_files(match["name"], int(match["version"]))
            if (match["rest"] or "") not in files:
                raise missing(f"no artifact {path!r}")
            return files[match["rest"] or ""]

        def current_key() -> str | None:
            with self.store.session() as session:
                in_run = self._run_of(session, path)
                if in_run is not None:
                    row = session.get(RunArtifact, in_run)
                    return None if row is None else row.key
                own = session.get(MlflowArtifactFile, path)
                return None if own is None else own.key

        try:
            data = read_current(self.store.artifacts, current_key)
        except NotFoundError:  # recorded, but its bytes are gone from the artifact store
            data = None
        if data is None:
            raise missing(f"no artifact {path!r}", path=path)
        return data

    def files_under(self, folder: str) -> dict[str, int]:
        """Every file under `folder` (recursively): its path relative to `folder`, and its size."""
        folder = clean_path(folder)
        match = _REGISTRY_PATH.match(folder)
        if match is not None:
            files = self.registry_files(match["name"], int(match["version"]))
            inner = match["rest"] or ""
            prefix = inner + "/" if inner else ""
            return {k[len(prefix) :]: len(v) for k, v in files.items() if k.startswith(prefix)}
        with self.store.session() as session:
            in_run = self._run_of(session, folder)
            if in_run is not None:
                run_id, inner = in_run
                prefix = inner + "/" if inner else ""
                rows = session.execute(
                    select(RunArtifact.path, RunArtifact.size).where(
                        RunArtifact.run_id == run_id, RunArtifact.path.startswith(prefix)
                    )
                ).all()
                return {p[len(prefix) :]: size for p, size in rows}
            prefix = folder + "/" if folder else ""
            rows = session.execute(
                select(MlflowArtifactFile.path, MlflowArtifactFile.size).where(
                    MlflowArtifactFile.path.startswith(prefix)
                )
            ).all()
            return {p[len(prefix) :]: size for p, size in rows}

    def list(self, folder: str) -> list[FileEntry]:
        """The direct children of `folder`: files with their size, and sub-folders."""
        entries: dict[str, FileEntry] = {}
        for relative, size in self.files_under(folder).items():
            head, sep, _ = relative.partition("/")
            if sep:
                entries.setdefault(head, FileEntry(head, True, None))
            else:
                entries[head] = FileEntry(head, False, size)
        if not entries and folder:
            # A file listed by its own path: MLflow expects the file itself back.
            parent, _, name = clean_path(folder).rpartition("/")
            sibling = self.files_under(parent).get(name)
            if sibling is not None:
                return [FileEntry(name, False, sibling)]
        return sorted(entries.values(), key=lambda e: e.path)

    def delete(self, path: str) -> None:
        path = clean_path(path)
        with self.store.session() as session:
            in_run = self._run_of(session, path)
            if in_run is not None:
                row = session.get(RunArtifact, in_run)
                if row is None:
                    raise missing(f"no artifact {path!r}")
                key = row.key
                session.delete(row)
            else:
                own = session.get(MlflowArtifactFile, path)
                if own is None:
                    raise missing(f"no artifact {path!r}")
                key = own.key
                session.execute(delete(MlflowArtifactFile).where(MlflowArtifactFile.path == path))
            session.commit()
        self.store.artifacts.delete(key)

    def registry_files(self, name: str, version: int) -> dict[str, bytes]:
        """A registry version's files: the archive's members for a folder, else the one file."""
        with self.store.session() as session:
            row: RegistryModelVersion = version_row(session, find_model(session, name), version)
            key, fmt, source_name = row.source_key, row.source_format, row.source_name
        data = self.store.artifacts.get(key)
        if fmt in ("directory", "mlflow"):
            # Checked member by member and bounded, like at registration (a version registered
            # before those checks existed is read under the same limits).
            return tar_files(data, self.limits)
        filename = {"skops": "model.skops", "joblib": "model.joblib"}.get(fmt, source_name)
        return {filename.rsplit("/", 1)[-1] or "model.bin": data}
