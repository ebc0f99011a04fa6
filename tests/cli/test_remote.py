"""The store-reading commands through a real Vigil server on loopback (--url/--token): each
prints what the same command prints on the store the server serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.commands import table
from tests.e2e.live import LiveServer, make_token
from tests.monitor.conftest import HOUR, T0, create_model, log_hours
from vigil.cli import main
from vigil.client.tracking.run import start_run
from vigil.store.core import Store


class Served:
    def __init__(self, root: Path, server: LiveServer, token: str) -> None:
        self.root = root
        self.server = server
        self.remote = ["--url", server.url, "--token", token]
        self.local = ["--store", server.store_url, "--artifacts", server.artifacts_url]
        self.run_ids: list[str] = []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    store_url, artifacts = f"sqlite:///{root / 'vigil.db'}", str(root / "artifacts")
    token = make_token(store_url)
    store = Store.open(store_url, artifacts)
    run_ids = []
    for model, auc in (("xgb", 0.9), ("rf", 0.8)):
        with start_run("churn", model, store=store, capture=False) as run:
            run.log_params({"model": model, "seed": 1})
            run.log_metric("auc", auc)
        run_ids.append(run.id)
    store.close()
    server = LiveServer(store_url, artifacts, root / "server.log").start()
    try:
        served = Served(root, server, token)
        served.run_ids = run_ids
        yield served
    finally:
        server.stop()


def _out(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 0) -> str:
    assert main(argv) == code, capsys.readouterr().err
    return capsys.readouterr().out


def _same(argv: list[str], served: Served, capsys: pytest.CaptureFixture[str]) -> str:
    """The command's output through the server, checked equal to its output on the store."""
    remote = _out([*argv, *served.remote], capsys)
    assert remote == _out([*argv, *served.local], capsys)
    return remote


def test_runs_search_show_compare_through_the_server(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = table(_same(["runs", "search", "churn", "-f", "metrics.auc > 0.85"], served, capsys))
    assert rows[0][:3] == ["RUN", "NAME", "STATUS"]
    assert [r[0] for r in rows[1:]] == [served.run_ids[0]]
    found = _same(["runs", "search", "--json", "-o", "metrics.auc"], served, capsys)
    assert [json.loads(line)["info"]["id"] for line in found.splitlines()] == served.run_ids[::-1]
    shown = json.loads(_same(["runs", "show", served.run_ids[0], "--json"], served, capsys))
    assert shown["params"] == {"model": "xgb", "seed": "1"}
    _same(["runs", "show", served.run_ids[0]], served, capsys)
    compared = json.loads(
        _same(["runs", "compare", *served.run_ids, "--format", "json"], served, capsys)
    )
    assert compared["param_differences"] == ["model"]
    assert compared["metrics"]["auc"] == dict(zip(served.run_ids, [0.9, 0.8], strict=True))
    missing = main(["runs", "show", "abc123", *served.remote])
    assert missing == 2
    assert "abc123" in capsys.readouterr().err


def test_datasets_add_list_diff_through_the_server(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    a, b = served.root / "a.csv", served.root / "b.csv"
    pd.DataFrame({"x": rng.normal(0, 1, 800), "c": rng.choice(["u", "v"], 800)}).to_csv(
        a, index=False
    )
    pd.DataFrame({"x": rng.normal(3, 1, 800), "d": rng.normal(0, 1, 800)}).to_csv(b, index=False)
    for path in (a, b):
        assert main(["datasets", "add", str(path), "--name", "train", *served.remote]) == 0
    assert capsys.readouterr().out.startswith("train@1  sha256:")
    listed = _same(["datasets", "list", "--name", "train", "--json"], served, capsys)
    assert [json.loads(line)["version"] for line in listed.splitlines()] == [1, 2]
    assert [row[0] for row in table(_same(["datasets", "list"], served, capsys))] == [
        "VERSION",
        "train@1",
        "train@2",
    ]
    argv = ["datasets", "diff", "train@1", "train@2", "--json"]
    remote = json.loads(_out([*argv, *served.remote], capsys, code=1))
    local = json.loads(_out([*argv, *served.local], capsys, code=1))
    assert remote == local
    assert (remote["added_columns"], remote["removed_columns"]) == (["d"], ["c"])
    assert remote["drift"]["drifted_columns"] == ["x"]


def test_tokens_and_importances_through_the_server(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    from vigil.explain.api import log_importance
    from vigil.registry import Registry

    tokens = json.loads(_same(["token", "list", "--json"], served, capsys))
    assert [t["scope"] for t in tokens] == ["admin"]
    model = served.root / "model.bin"
    model.write_bytes(b"weights")
    store = Store.open(served.server.store_url, served.server.artifacts_url)
    Registry(store).register("churn", model)
    log_importance(
        {"tenure": 0.5, "spend": 0.25}, method="gain", model_version="models:/churn/1", store=store
    )
    store.close()
    argv = ["explain", "show", "--version", "models:/churn/1"]
    assert json.loads(_same([*argv, "--json"], served, capsys)) == {"tenure": 0.5, "spend": 0.25}
    assert table(_same(argv, served, capsys)) == [
        ["FEATURE", "IMPORTANCE"],
        ["tenure", "0.5"],
        ["spend", "0.25"],
    ]


def test_a_backfill_through_the_server(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    from vigil.client import Client

    client = Client(served.server.url, token=served.remote[-1])
    create_model(client)
    log_hours(client, range(0, 1))
    client.close()
    monitors = served.root / "monitors.yaml"
    monitors.write_text("monitors:\n  - {name: silence, kind: no_data, target: {model: m}}\n")
    assert main(["monitors", "apply", str(monitors), *served.remote]) == 0
    capsys.readouterr()
    start, end = T0.isoformat(), (T0 + 3 * HOUR).isoformat()
    argv = ["monitors", "run", "--from", start, "--to", end, "--json"]
    remote = json.loads(_out([*argv, *served.remote], capsys))
    local = json.loads(_out([*argv, "--no-deliver", *served.local], capsys))
    assert remote == local
    assert (remote["evaluated"], remote["breached"]) == (3, 2)
    rows = table(_out(["monitors", "run", "--from", start, "--to", end, *served.remote], capsys))
    assert rows[0] == ["WINDOW", "MONITOR", "VALUE", "MESSAGE"]
    assert [row[1] for row in rows[1:3]] == ["silence", "silence"]


def test_explanations_load_the_model_from_the_servers_registry(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.linear_model import LogisticRegression

    from vigil.registry import Registry

    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.normal(size=(300, 3)), columns=["tenure", "spend", "calls"])
    y = (2 * x.tenure - x.spend + rng.normal(0, 0.3, 300) > 0).astype(int)
    store = Store.open(served.server.store_url, served.server.artifacts_url)
    Registry(store).register("scorer", LogisticRegression().fit(x, y))
    store.close()
    data = served.root / "valid.parquet"
    x.assign(churned=y).to_parquet(data)
    rows = ["explain", "rows", "models:/scorer/1", str(data), "--max-rows", "3", "--json"]
    assert len(json.loads(_same(rows, served, capsys))["rows"]) == 3
    importance = ["explain", "importance", "models:/scorer/1", str(data), "--label", "churned"]
    ranked = table(_same([*importance, "--repeats", "2"], served, capsys))
    assert [row[0] for row in ranked[:2]] == ["FEATURE", "tenure"]
    # --log through the server records on the server's version, read back through it.
    assert main([*importance, "--repeats", "2", "--log", *served.remote]) == 0
    capsys.readouterr()
    shown = json.loads(
        _same(["explain", "show", "--version", "models:/scorer/1", "--json"], served, capsys)
    )
    assert set(shown) == {"tenure", "spend", "calls"}
