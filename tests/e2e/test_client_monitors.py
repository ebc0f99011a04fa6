"""The Client's monitoring methods, the same test on a local store (SQLite and PostgreSQL) and
through a real server (uvicorn in a subprocess, on SQLite)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from tests.e2e.live import LiveServer, make_token
from vigil.client import Client
from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.registry.service import Registry
from vigil.store.core import Store

pytestmark = pytest.mark.slow

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)

FILE = """
channels:
  - name: hook
    config: {type: webhook, url: "https://hooks.example.com/vigil", secret: "${HOOK_SECRET}"}
monitors:
  - name: silence
    kind: no_data
    target: {model: m, alias: production}
    channels: [hook]
  - name: quality
    kind: training_quality
    target: {model: m}
    options: {against: production}
  - name: revenue
    kind: kpi_change
    target: {model: m, version: v1}
    window: day
    options: {kpi: revenue}
"""


@pytest.fixture(params=["local", "http"])
def setup(
    request: pytest.FixtureRequest, clean_store_url: str, tmp_path: Path
) -> Iterator[tuple[Client, Store, bool]]:
    """A client (local, or to a live server on the same store) and the store itself."""
    artifacts = str(tmp_path / "artifacts")
    if request.param == "local":
        client = Client.local(clean_store_url, artifacts)
        server = None
    else:
        server = LiveServer(clean_store_url, artifacts, tmp_path / "server.log")
        server.start()
        client = Client(server.url, token=make_token(clean_store_url), spool_dir=None)
    store = Store.open(clean_store_url, artifacts)
    try:
        yield client, store, server is not None
    finally:
        client.close()
        store.close()
        if server is not None:
            server.stop()


def test_client_monitoring_methods(
    setup: tuple[Client, Store, bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One test per transport and store (a server start is slow): monitors, then KPIs."""
    client, store, remote = setup
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    client.create_model("m", features=["x"], registry_model="churn")
    _monitors_channels_backfill_and_alerts(client, store, remote, tmp_path)
    _kpi_series_comparison_and_version_comparison(client, store)


def _monitors_channels_backfill_and_alerts(
    client: Client, store: Store, remote: bool, tmp_path: Path
) -> None:
    for h in range(3):  # hours 0-2 have data, 3-4 none
        client.log("m", {"x": [1.0, 2.0]}, version="v1", timestamp=T0 + h * HOUR + HOUR / 2)
    Registry(store, actor="ana").register("churn", __file__, metrics={"auc": 0.9, "rmse": 1.0})
    Registry(store, actor="ana").set_alias("churn", "production", 1)

    path = tmp_path / "monitors.yaml"
    path.write_text(FILE)
    plan = client.monitors.apply(path, dry_run=True)
    assert [(c.object, c.name, c.action) for c in plan.changes] == [
        ("channel", "hook", "create"),
        ("monitor", "silence", "create"),
        ("monitor", "quality", "create"),
        ("monitor", "revenue", "create"),
    ]
    assert client.monitors.list() == []
    assert client.monitors.apply(FILE).applied
    assert not client.monitors.apply(str(path)).changed  # idempotent
    changed = client.monitors.apply(
        FILE.replace("alias: production", "alias: staging"), dry_run=True
    )
    assert [str(c) for c in changed.changes if c.action != "unchanged"] == [
        "update monitor silence (target)"
    ]
    assert [m.name for m in client.monitors.list()] == ["quality", "revenue", "silence"]
    assert client.monitors.get("silence").target.key == "m@production"
    (channel,) = client.channels.list()
    assert channel.config.secret == ("***set***" if remote else "s3cret")  # type: ignore[union-attr]

    with pytest.raises(ConflictError, match="exists"):
        client.monitors.create({"name": "silence", "kind": "no_data", "target": {"model": "m"}})
    with pytest.raises(NotFoundError):
        client.monitors.update({"name": "nope", "kind": "no_data", "target": {"model": "m"}})
    with pytest.raises(InvalidInputError, match="unknown monitor kind"):
        client.monitors.save({"name": "x", "kind": "nope", "target": {"model": "m"}})
    created = client.monitors.create(
        {"name": "gaps", "kind": "missing_values", "target": {"model": "m"}}
    )
    assert created.action == "create"
    updated = client.monitors.update(
        {"name": "gaps", "kind": "missing_values", "target": {"model": "m"}, "severity": "critical"}
    )
    assert (updated.action, updated.fields) == ("update", ("severity",))
    client.monitors.delete("gaps")
    with pytest.raises(NotFoundError):
        client.monitors.get("gaps")

    run = client.monitors.run(T0, T0 + 5 * HOUR, monitors=["silence"], deliver=False)
    assert run.evaluated == 5
    assert [r.breached for r in run.results] == [False, False, False, True, True]
    (alert,) = client.alerts.list(state="open")
    assert (alert.monitor, alert.target, alert.n_windows) == ("silence", "m@production", 2)
    acked = client.alerts.ack(alert.id, "looking", by="ana")
    assert acked.state == "acknowledged"
    actor = acked.history[-1].actor
    assert actor.startswith("token:") if remote else actor == "ana"  # a server records the token
    with pytest.raises(ConflictError):
        client.alerts.ack(alert.id)
    resolved = client.alerts.resolve(alert.id, "fixed")
    assert resolved.state == "resolved"
    assert [e.event for e in client.alerts.get(alert.id).history] == [
        "opened",
        "acknowledged",
        "resolved",
    ]
    assert client.alerts.list(state="open") == []
    with pytest.raises(NotFoundError):
        client.alerts.get(9999)
    for name in ("silence", "quality", "revenue"):
        client.monitors.delete(name)
    client.channels.delete("hook")
    assert client.channels.list() == []


def _kpi_series_comparison_and_version_comparison(client: Client, store: Store) -> None:
    rng = np.random.default_rng(0)
    logged: dict[str, list[float]] = {"1": [], "2": []}
    for version, mean in (("1", 10.0), ("2", 11.0)):
        for i in range(12):
            value = round(float(rng.normal(mean, 1.0)), 4)
            at = T0 + (i % 2) * dt.timedelta(days=1) + i * HOUR
            client.log_kpi("revenue", value, timestamp=at, model="m", version=version)
            logged[version].append(value)
    series = client.kpis.series("revenue", "m", window="day")
    assert [(p.version, p.start, p.count) for p in series.points] == [
        ("1", T0, 6),
        ("1", T0 + dt.timedelta(days=1), 6),
        ("2", T0, 6),
        ("2", T0 + dt.timedelta(days=1), 6),
    ]
    assert series.points[0].mean == pytest.approx(np.mean(logged["1"][0::2]))
    comparison = client.kpis.compare("revenue", "m", a="1", b="2", start=T0, end=T0 + 3 * HOUR * 24)
    expected = stats.ttest_ind(logged["2"], logged["1"], equal_var=False)
    assert comparison.difference == pytest.approx(np.mean(logged["2"]) - np.mean(logged["1"]))
    assert comparison.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert comparison.start == T0

    Registry(store, actor="ana").register("churn", __file__, metrics={"auc": 0.8, "rmse": 1.5})
    result = client.registry.compare_versions("churn", 2)
    assert result["reference_version"] == 1
    worse = {m["name"]: m["worse_by"] for m in result["quality"]["metrics"]}
    assert worse == pytest.approx({"auc": 0.1, "rmse": 0.5})
    assert result["training_data"] is None
    assert "no training data profile for version 2 and version 1" in result["missing"]
    with pytest.raises(NotFoundError):
        client.registry.compare_versions("churn", 7)
