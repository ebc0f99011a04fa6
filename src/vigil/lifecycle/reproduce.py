"""`vigil runs reproduce RUN_ID`: rebuild what a run ran, in a new folder, from what it recorded.

Four parts, each recovered on its own so that a partial reproduction still helps:

- code: the recorded commit, cloned from the recorded remote (or the recorded checkout folder
  when it exists on this machine, or a repository given with `repo=`), with the recorded
  uncommitted diff applied;
- environment: the recorded package list written as `requirements.txt`;
- data: each recorded dataset version, rebuilt from the store's chunks and checked against its
  SHA-256, under `data/<name>@<version>/`;
- command: the recorded script (relative to the checkout) and arguments, and the run's params.

What cannot be recovered is named with the reason (`Reproduction.missing`). The run and the
data come from a store shared with the machine that trained (`StoreSource`) or from a Vigil
server (`ServerSource`).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from vigil.api.client import VigilApi
from vigil.api.tracking import DatasetVersionOut, RunData
from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.store.core import Store

DIFF_ARTIFACT = "vigil/git.diff"
REQUIREMENTS_ARTIFACT = "vigil/requirements.txt"
GIT_TIMEOUT_S = 300.0
Part = Literal["code", "diff", "environment", "data", "command"]


class RunSource(Protocol):
    """Where the run and its inputs are read from."""

    def run(self, run_id: str) -> RunData: ...
    def artifact(self, run_id: str, path: str) -> bytes | None: ...
    def inputs(self, run_id: str) -> list[tuple[DatasetVersionOut, str]]: ...
    def dataset_bytes(self, version: DatasetVersionOut) -> bytes: ...


class StoreSource:
    """A store shared with the machine that trained (the same database and artifact store)."""

    def __init__(self, store: Store) -> None:
        from vigil.tracking.datasets import DatasetService
        from vigil.tracking.service import TrackingService

        self._tracking = TrackingService(store)
        self._datasets = DatasetService(store)

    def run(self, run_id: str) -> RunData:
        return self._tracking.get_run(run_id)

    def artifact(self, run_id: str, path: str) -> bytes | None:
        try:
            return self._tracking.get_artifact(run_id, path)
        except NotFoundError:
            return None

    def inputs(self, run_id: str) -> list[tuple[DatasetVersionOut, str]]:
        return self._datasets.inputs_of(run_id)

    def dataset_bytes(self, version: DatasetVersionOut) -> bytes:
        return self._datasets.read_bytes(version)


class ServerSource:
    """A Vigil server (read scope is enough)."""

    def __init__(self, api: VigilApi) -> None:
        self._api = api

    def run(self, run_id: str) -> RunData:
        return self._api.runs.get(run_id)

    def artifact(self, run_id: str, path: str) -> bytes | None:
        try:
            return self._api.runs.artifact(run_id, path)
        except NotFoundError:
            return None

    def inputs(self, run_id: str) -> list[tuple[DatasetVersionOut, str]]:
        return self._api.runs.inputs(run_id)

    def dataset_bytes(self, version: DatasetVersionOut) -> bytes:
        return self._api.datasets.content(version.ref)


@dataclass(frozen=True)
class Step:
    """One part of the reproduction: done (ok), missing and why (not ok), or nothing to recover
    (`ok is None`, e.g. a run that used no dataset versions)."""

    part: Part
    ok: bool | None
    detail: str


@dataclass
class Reproduction:
    """What `reproduce` rebuilt under `directory`, and what it could not."""

    run_id: str
    directory: Path
    steps: list[Step] = field(default_factory=list)
    command: str | None = None
    workdir: Path | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> list[Step]:
        return [s for s in self.steps if s.ok is False]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def nothing_recovered(self) -> bool:
        return not any(s.ok is True for s in self.steps)

    def to_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "directory": str(self.directory),
            "complete": self.complete,
            "command": self.command,
            "workdir": str(self.workdir) if self.workdir else None,
            "params": dict(self.params),
            "steps": [{"part": s.part, "ok": s.ok, "detail": s.detail} for s in self.steps],
        }


def _git(args: list[str], cwd: Path | None = None) -> tuple[bool, str]:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            text=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    return done.returncode == 0, (done.stderr or done.stdout).strip()


def _repositories(tags: dict[str, str], repo: str | None) -> list[tuple[str, str]]:
    """The repositories to try, in order, each with how it was chosen."""
    if repo is not None:
        return [(repo, "given")]
    found = []
    remote = tags.get("vigil.git.remote")
    if remote:
        found.append((remote, "the recorded remote"))
    root = tags.get("vigil.git.root")
    if root and Path(root).is_dir():
        found.append((root, "the recorded checkout on this machine"))
    return found


def _code(run: RunData, repo: str | None, code_dir: Path) -> Step:
    tags = run.tags
    commit = tags.get("vigil.git.commit")
    if not commit:
        return Step("code", False, "the run recorded no git commit (it ran outside a checkout)")
    candidates = _repositories(tags, repo)
    if not candidates:
        root = tags.get("vigil.git.root")
        where = f"; its checkout {root!r} is not on this machine" if root else ""
        return Step(
            "code",
            False,
            f"commit {commit} was recorded without a remote{where}; pass --repo with a "
            "clone of the repository",
        )
    failures = []
    for source, how in candidates:
        if code_dir.exists():
            shutil.rmtree(code_dir)
        ok, out = _git(["clone", "--quiet", "--no-checkout", source, str(code_dir)])
        if not ok:
            failures.append(f"cannot clone {source} ({how}): {out}")
            continue
        ok, out = _git(["checkout", "--quiet", "--detach", commit], code_dir)
        if ok:
            return Step("code", True, f"commit {commit} checked out from {source} ({how})")
        failures.append(f"commit {commit} is not in {source} ({how}); was it pushed? ({out})")
    shutil.rmtree(code_dir, ignore_errors=True)
    return Step("code", False, "; ".join(failures))


def _diff(run: RunData, source: RunSource, code_dir: Path, code: Step) -> Step | None:
    if run.tags.get("vigil.git.dirty") != "true":
        return None
    diff = source.artifact(run.id, DIFF_ARTIFACT)
    if diff is None:
        return Step(
            "diff", False, f"the run had uncommitted changes but its {DIFF_ARTIFACT} is missing"
        )
    patch = code_dir.parent / "uncommitted.diff"
    patch.write_bytes(diff)
    if not code.ok:
        return Step(
            "diff", False, f"the uncommitted changes are saved in {patch}, not applied (no code)"
        )
    ok, out = _git(["apply", "--whitespace=nowarn", str(patch)], code_dir)
    if not ok:
        return Step("diff", False, f"the uncommitted changes ({patch}) do not apply: {out}")
    return Step("diff", True, f"uncommitted changes applied ({len(diff)} bytes)")


def _environment(run: RunData, source: RunSource, directory: Path) -> Step:
    packages = source.artifact(run.id, REQUIREMENTS_ARTIFACT)
    python = run.tags.get("vigil.python.version")
    if packages is None:
        return Step(
            "environment", False, f"the run recorded no package list ({REQUIREMENTS_ARTIFACT})"
        )
    (directory / "requirements.txt").write_bytes(packages)
    count = sum(1 for line in packages.decode(errors="replace").splitlines() if line.strip())
    on = f" (Python {python})" if python else ""
    return Step("environment", True, f"requirements.txt: {count} packages{on}")


def _file_name(version: DatasetVersionOut) -> str:
    if version.content_format == "file" and version.source:
        name = PurePosixPath(version.source.replace("\\", "/")).name
        if name and name not in (".", ".."):
            return name
    return f"{version.name}.arrow" if version.content_format == "arrow" else version.name


def _data(run: RunData, source: RunSource, directory: Path) -> list[Step]:
    steps = []
    for version, context in source.inputs(run.id):
        target = directory / "data" / version.ref / _file_name(version)
        try:
            content = source.dataset_bytes(version)
        except VigilError as exc:
            steps.append(Step("data", False, f"{version.ref} ({context}): {exc.message}"))
            continue
        if hashlib.sha256(content).hexdigest() != version.digest:
            steps.append(
                Step(
                    "data",
                    False,
                    f"{version.ref} ({context}): its content does not match "
                    f"its SHA-256 {version.digest[:12]}... (a chunk is damaged)",
                )
            )
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        steps.append(Step("data", True, f"{version.ref} ({context}) -> {target}"))
    return steps


def _command(run: RunData, code_dir: Path) -> tuple[Step, str | None, Path | None]:
    script = run.tags.get("vigil.source.script")
    if not script:
        return Step("command", False, "the run recorded no script"), None, None
    try:
        argv = [str(a) for a in json.loads(run.tags.get("vigil.source.argv", "[]"))]
    except ValueError:
        argv = []
    root = run.tags.get("vigil.git.root")
    path, workdir = script, None
    if root:
        try:
            path = PurePosixPath(script).relative_to(PurePosixPath(root)).as_posix()
            workdir = code_dir
        except ValueError:
            path = script
    command = shlex.join(["python", path, *argv])
    where = f" in {workdir}" if workdir else ""
    return Step("command", True, f"{command}{where}"), command, workdir


def reproduce(
    run_id: str, source: RunSource, directory: Path, *, repo: str | None = None
) -> Reproduction:
    """Rebuild run `run_id` under `directory` (which must be empty or new)."""
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInputError(
            f"{directory} is not empty; reproduce into a new folder", directory=str(directory)
        )
    run = source.run(run_id)
    directory.mkdir(parents=True, exist_ok=True)
    result = Reproduction(run_id=run.id, directory=directory, params=dict(run.params))
    code_dir = directory / "code"
    code = _code(run, repo, code_dir)
    result.steps.append(code)
    diff = _diff(run, source, code_dir, code)
    if diff is not None:
        result.steps.append(diff)
    result.steps.append(_environment(run, source, directory))
    data = _data(run, source, directory)
    result.steps.extend(data or [Step("data", None, "the run recorded no dataset versions")])
    step, result.command, result.workdir = _command(run, code_dir)
    result.steps.append(step)
    if not code.ok:
        result.workdir = None
    return result
