"""What a run records about where it ran: code version (git), the script and its arguments, the
Python environment. Each part fails quietly (a run outside a git checkout has no git tags)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

GIT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Captured:
    """Tags to set on a run and files (path -> bytes) to store as its artifacts."""

    tags: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def script_dir() -> Path:
    script = sys.argv[0] if sys.argv and sys.argv[0] else ""
    path = Path(script)
    return path.resolve().parent if script and path.exists() else Path.cwd()


def capture_git(cwd: Path | None = None) -> Captured:
    """Commit, branch, dirty flag, remote and checkout folder as tags; the uncommitted diff
    (against HEAD) as `vigil/git.diff`."""
    where = cwd or script_dir()
    commit = _git(["rev-parse", "HEAD"], where)
    if commit is None:
        return Captured()
    tags = {"vigil.git.commit": commit.decode().strip()}
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], where)
    if branch is not None:
        tags["vigil.git.branch"] = branch.decode().strip()
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    dirty = bool(status and status.strip())
    tags["vigil.git.dirty"] = "true" if dirty else "false"
    remote = _git(["config", "--get", "remote.origin.url"], where)
    if remote:
        tags["vigil.git.remote"] = remote.decode().strip()
    root = _git(["rev-parse", "--show-toplevel"], where)
    if root:  # where the script sits in the checkout, for `vigil runs reproduce`
        tags["vigil.git.root"] = root.decode().strip()
    artifacts = {}
    if dirty:
        diff = _git(["diff", "HEAD", "--binary"], where)
        if diff:
            artifacts["vigil/git.diff"] = diff
    return Captured(tags=tags, artifacts=artifacts)


def capture_source() -> Captured:
    script = sys.argv[0] if sys.argv else ""
    tags = {"vigil.source.argv": json.dumps(sys.argv[1:])}
    if script:
        path = Path(script)
        tags["vigil.source.script"] = str(path.resolve()) if path.exists() else script
    return Captured(tags=tags)


def installed_packages() -> list[str]:
    """`name==version` of every installed distribution, sorted, one per name."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        # `dist.name` and `dist.version` each read and parse the METADATA file again.
        meta = dist.metadata
        name = meta["Name"]
        if name:
            found.setdefault(name.lower(), f"{name}=={meta['Version']}")
    return [found[k] for k in sorted(found)]


def capture_environment() -> Captured:
    tags = {
        "vigil.python.version": platform.python_version(),
        "vigil.python.implementation": platform.python_implementation(),
        "vigil.platform": platform.platform(),
    }
    packages = "\n".join(installed_packages()) + "\n"
    return Captured(tags=tags, artifacts={"vigil/requirements.txt": packages.encode()})
