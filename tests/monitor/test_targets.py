"""Monitor targets: a version, a registry alias resolved at each evaluation, a segment."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from tests.cli.commands import table
from tests.monitor.conftest import HOUR, T0, client_for
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.monitor.specs import Target
from vigil.registry.service import Registry
from vigil.store.core import Store


def test_target_keys_include_version_alias_and_segment() -> None:
    assert Target(model="m").key == "m"
    assert Target(model="m", version="v3").key == "m@v3"
    assert Target(model="m", alias="production").key == "m@production"
    target = Target.model_validate({"model": "m", "alias": "staging", "segment": {"country": "FR"}})
    assert target.key == "m@staging[country=FR]"
    assert target.segment_key == "country=FR"
    assert Target.model_validate({"model": "m", "segment": {"vip": True}}).segment_key == "vip=true"
    assert Target.model_validate({"model": "m", "segment": {"n": 3}}).segment_key == "n=3"
    assert Target.model_validate({"model": "m", "segment": {"n": 1.0}}).segment_key == "n=1"
    assert Target.model_validate({"model": "m", "segment": {"n": 0.5}}).segment_key == "n=0.5"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"model": "m", "version": "1", "alias": "production"}, "not both"),
        ({"model": "m", "alias": "latest"}, "reserved"),
        ({"model": "m", "alias": "bad alias"}, "alias 'bad alias' is not valid"),
        ({"model": "m", "segment": {"a": "1", "b": "2"}}, "exactly one column"),
        ({"model": "m", "segment": {}}, "exactly one column"),
        ({"model": "m", "segment": {"a=b": "1"}}, "without '='"),
        ({"model": "m", "segment": {"a": [1]}}, "string, number or boolean"),
    ],
)
def test_bad_targets_are_refused_naming_the_value(target: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Target.model_validate(target)


def _traffic(client: object, hours: range, version: str, missing: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for h in hours:
        x = rng.normal(0.0, 1.0, 40)
        x[rng.random(40) < missing] = np.nan
        client.log(  # type: ignore[attr-defined]
            "m",
            {"x": x, "country": rng.choice(["FR", "DE"], 40)},
            version=version,
            timestamp=T0 + h * HOUR + HOUR / 2,
        )


def _missing(name: str, target: dict[str, object], upper: float = 0.2) -> Monitor:
    return Monitor.model_validate(
        {
            "name": name,
            "kind": "missing_values",
            "target": target,
            "threshold": {"type": "static", "upper": upper},
        }
    )


def test_an_alias_target_follows_the_alias_at_the_next_evaluation(
    store: Store, tmp_path: Path
) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"], registry_model="churn")
    _traffic(client, range(0, 4), "v1", missing=0.0, seed=1)  # version 1 logged as "v1"
    _traffic(client, range(0, 4), "2", missing=0.5, seed=2)  # version 2 logged as "2"
    client.close()
    registry = Registry(store, actor="ana")
    for _ in range(2):
        registry.register("churn", __file__)
    registry.set_alias("churn", "production", 1)
    monitors.save_monitor(store, _missing("prod-gaps", {"model": "m", "alias": "production"}))
    first = monitors.backfill(store, T0, T0 + 4 * HOUR, now=T0 + 4 * HOUR)
    assert [r.value for r in first] == [0.0] * 4  # version 1's windows
    registry.set_alias("churn", "production", 2)
    second = monitors.backfill(store, T0, T0 + 4 * HOUR, now=T0 + 4 * HOUR)
    assert all(r.value is not None and r.value > 0.3 for r in second)  # now version 2's
    assert all(r.breached for r in second)
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.target == "m@production"
    assert alert.n_windows == 4


def test_a_deleted_alias_skips_its_monitor_and_says_why(
    sqlite_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x"], registry_model="churn")
    _traffic(client, range(0, 2), "1", missing=0.0, seed=1)
    client.close()
    Registry(sqlite_store, actor="ana").register("churn", __file__)
    monitors.save_monitor(sqlite_store, _missing("staged", {"model": "m", "alias": "staging"}))
    monitors.save_monitor(sqlite_store, _missing("all", {"model": "m"}))
    with caplog.at_level(logging.WARNING, logger="vigil.monitor"):
        results = monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
    assert {r.monitor for r in results} == {"all"}
    assert "has no alias @staging" in caplog.text


def test_a_segment_target_reads_that_segments_windows(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"], segments=["country"])
    rng = np.random.default_rng(5)
    for h in range(3):
        country = np.array(["FR"] * 50 + ["DE"] * 50)
        x = rng.normal(0.0, 1.0, 100)
        x[:25] = np.nan  # half of FR, a quarter of the whole traffic
        client.log("m", {"x": x, "country": country}, timestamp=T0 + h * HOUR + HOUR / 2)
    client.close()
    monitors.save_monitor(store, _missing("fr", {"model": "m", "segment": {"country": "FR"}}, 0.3))
    monitors.save_monitor(store, _missing("de", {"model": "m", "segment": {"country": "DE"}}, 0.3))
    monitors.save_monitor(store, _missing("all", {"model": "m"}, 0.3))
    results = monitors.backfill(store, T0, T0 + 3 * HOUR, now=T0 + 3 * HOUR)
    values = {(r.monitor, r.window_start): r.value for r in results}
    assert values[("fr", T0)] == pytest.approx(0.5)
    assert values[("de", T0)] == pytest.approx(0.0)
    assert values[("all", T0)] == pytest.approx(0.25)
    with store.session() as session:
        alerts = monitors.list_alerts(session)
    assert [(a.monitor, a.target) for a in alerts] == [("fr", "m[country=FR]")]


def test_a_segment_column_the_model_lacks_is_skipped(
    sqlite_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x"])
    client.close()
    monitors.save_monitor(
        sqlite_store, _missing("city", {"model": "m", "segment": {"city": "Paris"}})
    )
    with caplog.at_level(logging.WARNING, logger="vigil.monitor"):
        assert monitors.backfill(sqlite_store, T0, T0 + HOUR, now=T0 + HOUR) == []
    assert "not one of model 'm'" in caplog.text


YAML = """
monitors:
  - name: prod-fr-gaps
    kind: missing_values
    target: {model: m, alias: production, segment: {country: FR}}
  - name: training
    kind: training_quality
    target: {model: m}
    options: {against: production, directions: {lift: higher}, relative: false}
    threshold: {type: static, upper: 0.02}
  - name: importance
    kind: feature_importance_change
    target: {model: m}
    options: {top_k: 5}
  - name: training-data
    kind: training_data_drift
    target: {model: m}
  - name: revenue
    kind: kpi_change
    target: {model: m}
    window: day
    options: {kpi: revenue, aggregate: sum}
"""


def test_vigil_monitors_apply_takes_the_new_kinds_and_targets_and_shows_changes(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vigil.cli import main

    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    opts = ["--store", url, "--artifacts", str(tmp_path / "artifacts")]
    path = tmp_path / "monitors.yaml"
    path.write_text(YAML)
    assert main(["monitors", "apply", str(path), "--dry-run", *opts]) == 0
    out = capsys.readouterr().out
    for name in ("prod-fr-gaps", "training", "importance", "training-data", "revenue"):
        assert f"would create monitor {name}" in out
    assert main(["monitors", "apply", str(path), *opts]) == 0
    capsys.readouterr()
    path.write_text(YAML.replace("country: FR", "country: DE").replace("top_k: 5", "top_k: 3"))
    assert main(["monitors", "apply", str(path), "--dry-run", *opts]) == 0
    out = capsys.readouterr().out
    assert "would update monitor prod-fr-gaps (target)" in out
    assert "would update monitor importance (options)" in out
    assert main(["monitors", "list", *opts]) == 0
    rows = [row[:4] for row in table(capsys.readouterr().out)]
    assert ["prod-fr-gaps", "missing_values", "m@production[country=FR]", "hour"] in rows
    path.write_text(YAML.replace("top_k: 5", "top_k: -1"))
    assert main(["monitors", "apply", str(path), *opts]) == 2
    assert "top_k" in capsys.readouterr().err
