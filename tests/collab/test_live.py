"""Following a live run: a training process logs through a real server while a teammate follows
it with another token; the run's owner is the token's owner and searches filter by it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import vigil
from tests.e2e.live import LiveServer
from tests.waits import patience
from vigil.api.specs import Scope
from vigil.api.tracking import MetricPoint, RunStatus
from vigil.cli import cli
from vigil.errors import InvalidInputError
from vigil.lifecycle.live import LivePage, follow, live_metrics
from vigil.store.core import Store

TRAINING = """
import sys, time
import vigil

url, token, out = sys.argv[1:4]
with vigil.start_run("live", url=url, token=token, capture_git_info=False,
                     flush_interval=0.05, system_metrics_interval=0.2) as run:
    open(out + ".tmp", "w").write(run.id)
    __import__("os").replace(out + ".tmp", out)
    for step in range(40):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
        time.sleep(0.05)
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    store_url, artifacts = f"sqlite:///{tmp_path / 'shared.db'}", str(tmp_path / "artifacts")
    store = Store.open(store_url, artifacts)
    tokens = {w: store.create_token(Scope.WRITE, name=w, owner=w) for w in ("alice", "bob")}
    store.close()
    live = LiveServer(store_url, artifacts, tmp_path / "server.log").start()
    try:
        yield live, tokens
    finally:
        live.stop()


def test_a_teammate_follows_a_run_while_it_trains(
    server: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    live, tokens = server
    script, id_file = tmp_path / "train.py", tmp_path / "run_id"
    script.write_text(TRAINING)
    training = subprocess.Popen(
        [sys.executable, str(script), live.url, tokens["alice"], str(id_file)]
    )
    try:
        deadline = time.monotonic() + patience(30)
        while not id_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        run_id = id_file.read_text()
        pages = list(
            vigil.watch_run(run_id, url=live.url, token=tokens["bob"], interval=0.1, timeout=60)
        )
    finally:
        assert training.wait(timeout=60) == 0
    loss = [p for page in pages for p in page.metrics if p.key == "loss"]
    # Every point exactly once, in order, and some of them while the run was still running.
    assert [p.step for p in loss] == list(range(40))
    assert [p.value for p in loss] == pytest.approx([1.0 / (s + 1) for s in range(40)])
    assert sum(1 for page in pages if page.running and page.metrics) >= 2
    assert any(p.key == "system.cpu_percent" for page in pages for p in page.system_metrics)
    assert pages[-1].status == RunStatus.FINISHED

    # The run is alice's (the token's owner); bob's search for his own runs finds nothing.
    alice = vigil.search_runs("live", url=live.url, token=tokens["bob"], actor="alice")
    assert [r.info.owner for r in alice.runs] == ["alice"]
    assert len(vigil.search_runs(url=live.url, token=tokens["bob"], actor="bob")) == 0

    # A Client follows it too (after the fact here: every point, then the end).
    with vigil.Client(live.url, token=tokens["bob"], spool_dir=None) as client:
        again = list(client.runs.watch(run_id, interval=0.1, timeout=30))
    assert [p.step for page in again for p in page.metrics] == list(range(40))
    assert again[-1].status == RunStatus.FINISHED

    # The same from the command line, after the fact: every point, then the run's state.
    result = CliRunner().invoke(
        cli,
        [
            "runs",
            "watch",
            run_id,
            "--url",
            live.url,
            "--token",
            tokens["bob"],
            "--no-system",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    steps = [json.loads(line)["step"] for line in result.stdout.splitlines()]
    assert steps == list(range(40))


def test_live_metrics_cursor_since_step_and_time(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    run = vigil.start_run("e", store=store, capture=False, system_metrics=False)
    for step in range(5):
        run.log_metrics(
            {"loss": float(step), "system.cpu_percent": 50.0}, step=step, timestamp=1000 + step
        )
    run.flush()
    with store.session() as session:
        first = live_metrics(session, run.id)
        assert [p.step for p in first.metrics] == [0, 1, 2, 3, 4]
        assert [p.key for p in first.system_metrics] == ["system.cpu_percent"] * 5
        assert live_metrics(session, run.id, cursor=first.cursor).points == []
        assert [p.step for p in live_metrics(session, run.id, since_step=2).metrics] == [3, 4]
        assert [p.step for p in live_metrics(session, run.id, since_time=1003).metrics] == [4]
        limited = live_metrics(session, run.id, limit=3)
        assert limited.has_more
        assert len(limited.points) == 3
        rest = live_metrics(session, run.id, cursor=limited.cursor)
        keys = sorted((p.key, p.step) for p in [*limited.points, *rest.points])
        assert keys == sorted(
            [("loss", s) for s in range(5)] + [("system.cpu_percent", s) for s in range(5)]
        )
        with pytest.raises(InvalidInputError, match="is not one a live metrics answer returned"):
            live_metrics(session, run.id, cursor="bm90IGpzb24")
        session.rollback()
    run.log_metric("loss", np.nan, step=5)
    run.flush()
    with store.session() as session:
        nxt = live_metrics(session, run.id, cursor=first.cursor)
        assert [p.step for p in nxt.metrics] == [5]
        assert np.isnan(nxt.metrics[0].value)
        session.rollback()
    run.end()
    store.close()


def test_follow_stops_when_the_run_has_ended_and_was_read() -> None:
    running = [True, True, False]
    polls: list[str | None] = []

    def fetch(cursor: str | None) -> LivePage:
        polls.append(cursor)
        status = RunStatus.RUNNING if running.pop(0) else RunStatus.FINISHED
        point = MetricPoint(key="loss", value=1.0, step=len(polls), timestamp_ms=0)
        return LivePage(
            run_id="r",
            status=status,
            end_ms=None,
            metrics=[point],
            system_metrics=[],
            cursor=str(len(polls)),
            has_more=False,
        )

    pages = list(follow(fetch, interval=0.01, sleep=lambda _: None))
    assert polls == [None, "1", "2"]
    assert [p.metrics[0].step for p in pages] == [1, 2, 3]
    with pytest.raises(InvalidInputError, match="interval must be positive"):
        next(follow(fetch, interval=0))
