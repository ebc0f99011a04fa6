"""`vigil runs reproduce`: a teammate rebuilds a dirty run from another machine that shares the
store (or the server): code at the commit with the diff, requirements, data and the command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import vigil
from tests.cli.commands import table
from vigil.api.client import VigilApi
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.config import Settings
from vigil.lifecycle.reproduce import ServerSource, reproduce
from vigil.server import create_app
from vigil.store.core import Store

TRAIN = """import sys
import vigil

with vigil.start_run("repro", system_metrics=False) as run:
    run.log_params({"lr": sys.argv[2], "epochs": sys.argv[4]})
    run.log_dataset("data/train.csv", "training-data")
    print(run.id)
"""
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Alice",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
}


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout.strip()


@pytest.fixture
def trained(tmp_path: Path) -> tuple[str, str, str, bytes, str]:
    """Alice's machine: a repo pushed to a shared remote, a dirty change, a run that used a
    dataset; then her checkout is gone. Returns (store URL, artifacts, run id, data, train.py)."""
    remote = tmp_path / "origin.git"
    _git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    project = tmp_path / "alice" / "project"
    (project / "data").mkdir(parents=True)
    _git("init", "--quiet", cwd=project)
    (project / "train.py").write_text(TRAIN)
    _git("add", "train.py", cwd=project)
    _git("commit", "--quiet", "-m", "training script", cwd=project)
    _git("remote", "add", "origin", str(remote), cwd=project)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=project)
    dirty = TRAIN.replace('"repro"', '"repro-tuned"') + "# uncommitted change\n"
    (project / "train.py").write_text(dirty)
    data = b"x,y\n1,2\n3,4\n5,6\n"
    (project / "data" / "train.csv").write_bytes(data)
    store_url = f"sqlite:///{tmp_path / 'shared.db'}"
    artifacts = str(tmp_path / "shared-artifacts")
    done = subprocess.run(
        [sys.executable, "train.py", "--lr", "0.1", "--epochs", "3"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "VIGIL_STORE_URL": store_url, "VIGIL_ARTIFACTS_URL": artifacts},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shutil.rmtree(tmp_path / "alice")  # reproduced on another machine: her checkout is gone
    return store_url, artifacts, done.stdout.strip(), data, dirty


def test_reproduce_a_dirty_run_on_another_machine(
    trained: tuple[str, str, str, bytes, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_url, artifacts, run_id, data, dirty = trained
    target = tmp_path / "bob" / "repro"
    code = main(
        [
            "runs",
            "reproduce",
            run_id,
            "--dir",
            str(target),
            "--store",
            store_url,
            "--artifacts",
            artifacts,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert (target / "code" / "train.py").read_text() == dirty  # commit + uncommitted diff
    assert (target / "data" / "training-data@1" / "train.csv").read_bytes() == data
    requirements = (target / "requirements.txt").read_text().splitlines()
    assert f"numpy=={__import__('numpy').__version__}" in requirements
    assert f"cd {target / 'code'}\npython train.py --lr 0.1 --epochs 3\n" in out
    assert "params: epochs=3 lr=0.1" in out
    assert "MISSING" not in out


def test_reproduce_through_a_server_and_partial_reproductions(
    trained: tuple[str, str, str, bytes, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_url, artifacts, run_id, data, dirty = trained
    store = Store.open(store_url, artifacts)
    token = store.create_token(Scope.READ, name="bob", owner="bob")
    settings = Settings(store_url=store_url, artifacts_url=artifacts)
    with TestClient(create_app(settings, store=store)) as http:
        api = VigilApi("http://testserver", token, http=http)
        served = reproduce(run_id, ServerSource(api), tmp_path / "served")
    assert served.complete, served.missing
    assert (tmp_path / "served" / "code" / "train.py").read_text() == dirty
    assert (tmp_path / "served" / "data" / "training-data@1" / "train.csv").read_bytes() == data

    # The commit is not in the repository given: the code is missing, the rest is rebuilt.
    empty = tmp_path / "empty.git"
    _git("init", "--quiet", "--bare", str(empty), cwd=tmp_path)
    code = main(
        [
            "runs",
            "reproduce",
            run_id,
            "--dir",
            str(tmp_path / "partial"),
            "--repo",
            str(empty),
            "--store",
            store_url,
            "--artifacts",
            artifacts,
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    commit = vigil.search_runs(store=store).runs[0].tags["vigil.git.commit"]
    code_row = next(row for row in table(captured.out) if row[1] == "code")
    assert code_row[0] == "MISSING"
    assert code_row[2].startswith(f"commit {commit} is not in {empty}")
    assert "uncommitted changes are saved in" in captured.out
    assert "partial reproduction" in captured.err
    assert (tmp_path / "partial" / "data" / "training-data@1" / "train.csv").read_bytes() == data

    # A run that recorded nothing: exit 2, each part named.
    bare = vigil.start_run("repro", store=store, capture=False, system_metrics=False)
    bare.end()
    code = main(
        [
            "runs",
            "reproduce",
            bare.id,
            "--dir",
            str(tmp_path / "nothing"),
            "--store",
            store_url,
            "--artifacts",
            artifacts,
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "the run recorded no git commit" in captured.out
    assert "the run recorded no package list" in captured.out
    assert "the run recorded no script" in captured.out
    assert f"nothing of run {bare.id} could be recovered" in captured.err

    # A run id that does not exist, and a folder that is not empty: bad input, exit 2.
    assert (
        main(["runs", "reproduce", "0" * 32, "--store", store_url, "--artifacts", artifacts]) == 2
    )
    assert "no run '000" in capsys.readouterr().err
    assert (
        main(
            [
                "runs",
                "reproduce",
                run_id,
                "--dir",
                str(tmp_path / "served"),
                "--store",
                store_url,
                "--artifacts",
                artifacts,
            ]
        )
        == 2
    )
    assert "is not empty" in capsys.readouterr().err
    store.close()


def test_an_unpushed_commit_comes_from_the_checkout_on_this_machine(tmp_path: Path) -> None:
    from vigil.client.tracking.capture import capture_git
    from vigil.lifecycle.reproduce import StoreSource

    remote, project = tmp_path / "origin.git", tmp_path / "project"
    _git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    project.mkdir()
    _git("init", "--quiet", cwd=project)
    (project / "train.py").write_text("print('v1')\n")
    _git("add", "train.py", cwd=project)
    _git("commit", "--quiet", "-m", "v1", cwd=project)
    _git("remote", "add", "origin", str(remote), cwd=project)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=project)
    (project / "train.py").write_text("print('v2')\n")
    _git("commit", "--quiet", "-am", "v2, not pushed", cwd=project)

    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    run = vigil.start_run("e", store=store, capture=False, system_metrics=False)
    captured = capture_git(project)
    run.set_tags({**captured.tags, "vigil.source.script": str(project / "train.py")})
    run.end()
    result = reproduce(run.id, StoreSource(store), tmp_path / "out")
    (code,) = [s for s in result.steps if s.part == "code"]
    assert code.ok, code.detail
    assert "the recorded checkout on this machine" in code.detail
    assert (tmp_path / "out" / "code" / "train.py").read_text() == "print('v2')\n"
    assert result.command == "python train.py"
    assert result.workdir == tmp_path / "out" / "code"
    store.close()
