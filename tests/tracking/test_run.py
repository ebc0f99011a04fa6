from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import vigil
from tests.waits import patience
from vigil.api.tracking import RunStatus
from vigil.client.tracking.run import start_run
from vigil.errors import ConflictError, InvalidInputError
from vigil.store.core import Store
from vigil.tracking.service import TrackingService


def _run(store: Store, **kwargs: object) -> vigil.Run:
    options: dict[str, object] = {"capture": False, "store": store}
    options.update(kwargs)
    return start_run("churn", **options)  # type: ignore[arg-type]


def test_params_metrics_tags_round_trip(store: Store) -> None:
    with _run(store, name="first") as run:
        run.log_params({"model": "xgb", "depth": 6})
        run.log_param("model", "xgb")  # the same value again is fine
        for i in range(5):
            run.log_metric("loss", 1.0 / (i + 1))
        run.log_metrics({"auc": 0.9, "f1": 0.5}, step=3)
        run.log_metric("nan", math.nan)
        run.set_tags({"team": "risk"})
        run.set_tag("team", "growth")
    data = TrackingService(store).get_run(run.id)
    assert data.info.status is RunStatus.FINISHED
    assert data.info.name == "first"
    assert data.info.end_ms is not None
    assert data.info.end_ms >= data.info.start_ms
    assert data.params == {"model": "xgb", "depth": "6"}
    assert data.metrics["loss"] == pytest.approx(0.2)
    assert data.metrics["auc"] == 0.9
    assert math.isnan(data.metrics["nan"])
    assert data.tags["team"] == "growth"
    history = TrackingService(store).metric_history(run.id, "loss")
    assert [p.step for p in history] == [0, 1, 2, 3, 4]
    assert [p.value for p in history] == pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2])


def test_param_is_immutable(store: Store) -> None:
    with _run(store) as run:
        run.log_param("lr", 0.1)
        with pytest.raises(ConflictError, match=r"'lr'.*'0\.1'.*'0\.2'"):
            run.log_param("lr", 0.2)
    # the store refuses too, for a writer that did not see the first value
    with pytest.raises(ConflictError, match="'0.3'"):
        TrackingService(store).log_batch(run.id, params={"lr": "0.3"})


def test_latest_metric_is_highest_step_not_last_written(store: Store) -> None:
    with _run(store) as run:
        run.log_metric("acc", 0.9, step=10)
        run.flush()
        run.log_metric("acc", 0.1, step=2)
    assert TrackingService(store).get_run(run.id).metrics["acc"] == 0.9


def test_failed_and_killed(store: Store) -> None:
    failing = _run(store)
    failing.log_metric("x", 1.0)
    with pytest.raises(RuntimeError), failing:
        raise RuntimeError("boom")
    with pytest.raises(KeyboardInterrupt), _run(store) as killed:
        raise KeyboardInterrupt
    service = TrackingService(store)
    assert service.get_run(failing.id).info.status is RunStatus.FAILED
    assert service.get_run(failing.id).metrics == {"x": 1.0}
    assert service.get_run(killed.id).info.status is RunStatus.KILLED


def test_nested_runs(store: Store) -> None:
    with _run(store, name="parent") as parent:
        with _run(store, name="fold-1", nested=True) as child:
            child.log_metric("auc", 0.8)
        other = parent.child("fold-2")
        other.log_metric("auc", 0.7)
    service = TrackingService(store)
    assert service.get_run(child.id).info.parent_id == parent.id
    assert service.get_run(other.id).info.parent_id == parent.id
    assert service.get_run(other.id).info.status is RunStatus.FINISHED  # ended with its parent
    assert service.get_run(other.id).metrics == {"auc": 0.7}


def test_starting_a_second_run_without_nested_is_refused(store: Store) -> None:
    with _run(store), pytest.raises(InvalidInputError, match="nested=True"):
        _run(store)


def test_artifacts(store: Store, tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00weights")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    with _run(store) as run:
        stored = run.log_artifact(model)
        run.log_artifacts(folder, artifact_path="plots")
    service = TrackingService(store)
    assert stored.key.startswith(f"runs/{run.id}/")
    assert "model.bin" not in stored.key
    assert service.get_artifact(run.id, "model.bin") == b"\x00weights"
    assert [a.path for a in service.list_artifacts(run.id)] == [
        "model.bin",
        "plots/a.txt",
        "plots/sub/b.txt",
    ]
    assert service.get_artifact(run.id, "plots/sub/b.txt") == b"b"
    with pytest.raises(InvalidInputError, match="unsafe|must be relative"):
        service.put_artifact(run.id, "../escape", b"x")


def test_owner_is_the_os_user(store: Store) -> None:
    import getpass

    with _run(store) as run:
        pass
    assert run.info.owner == getpass.getuser()


def test_capture(store: Store) -> None:
    with _run(store, capture=True, system_metrics_interval=0.05) as run:
        import time

        time.sleep(0.3)
    data = TrackingService(store).get_run(run.id)
    assert data.tags["vigil.python.version"] == ".".join(map(str, sys.version_info[:3]))
    assert "vigil.source.argv" in data.tags
    assert data.tags.get("vigil.git.dirty") in ("true", "false")  # tests run in a git checkout
    assert len(data.tags["vigil.git.commit"]) == 40
    requirements = TrackingService(store).get_artifact(run.id, "vigil/requirements.txt").decode()
    assert any(line.startswith("pyarrow==") for line in requirements.splitlines())
    assert 0 <= data.metrics["system.cpu_percent"] <= 100 * 64
    assert data.metrics["system.memory_used_mb"] > 0


def test_git_diff_is_stored_when_dirty(store: Store, tmp_path: Path) -> None:
    from vigil.client.tracking.capture import capture_git

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=a@b.c", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], cwd=repo, check=True)
    assert capture_git(repo).tags["vigil.git.dirty"] == "false"
    (repo / "train.py").write_text("print(2)\n")
    captured = capture_git(repo)
    assert captured.tags["vigil.git.dirty"] == "true"
    assert captured.tags["vigil.git.branch"] == "main"
    assert b"+print(2)" in captured.artifacts["vigil/git.diff"]


def test_metrics_are_written_when_the_process_ends_without_ending_the_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    script = textwrap.dedent(
        f"""
        import vigil
        run = vigil.start_run("exit", store_url={url!r}, artifacts_url={str(tmp_path / "a")!r},
                              capture=False, flush_interval=60)
        for i in range(5000):
            run.log_metric("loss", float(i))
        print(run.id)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    run_id = done.stdout.strip()
    opened = Store.open(url, str(tmp_path / "a"))
    try:
        service = TrackingService(opened)
        data = service.get_run(run_id)
        assert data.info.status is RunStatus.FINISHED
        assert len(service.metric_history(run_id, "loss")) == 5000
        assert data.metrics["loss"] == 4999.0
    finally:
        opened.close()


def test_background_thread_flushes(store: Store) -> None:
    import time

    with _run(store, flush_interval=0.05) as run:
        run.log_metric("x", 1.0)
        deadline = time.monotonic() + patience(5)
        while time.monotonic() < deadline:
            if TrackingService(store).metric_history(run.id, "x"):
                break
            time.sleep(0.02)
        assert len(TrackingService(store).metric_history(run.id, "x")) == 1


def test_public_names_are_lazy_exports() -> None:
    code = (
        "import sys, vigil\n"
        "assert 'vigil.client.tracking.run' not in sys.modules\n"
        "import vigil.api.tracking\n"
        "assert 'sqlalchemy' not in sys.modules, 'the HTTP client side must not need the store'\n"
        "from vigil.client.tracking.run import Run, start_run\n"
        "from vigil.client.tracking.api import compare_runs, search_runs\n"
        "assert vigil.start_run is start_run and vigil.Run is Run\n"
        "assert vigil.search_runs is search_runs and vigil.compare_runs is compare_runs\n"
        "assert {'Run', 'RunStatus', 'start_run', 'search_runs', 'compare_runs'} <= set(vigil.__all__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
