from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from vigil import monitor as monitors
from vigil.errors import InvalidInputError
from vigil.monitor import Monitor
from vigil.monitor.kinds import KINDS
from vigil.monitor.windows import floor_window, monitor_grid
from vigil.store.core import Store
from vigil.windows import Grid

FILE = """
channels:
  - name: oncall
    config: {type: webhook, url: "https://hooks.example.com/vigil", secret: s}
monitors:
  - name: churn-drift
    kind: data_drift
    target: {model: churn}
    window: day
    baseline: {type: period, start: "2026-01-01T00:00:00Z", end: "2026-01-08T00:00:00Z"}
    threshold: {type: static, upper: 0.3}
    severity: critical
    channels: [oncall]
    cooldown: PT6H
  - name: churn-silence
    kind: no_data
    target: {model: churn, version: v2}
"""


def test_a_monitor_is_validated_at_construction() -> None:
    base = {"name": "x", "target": {"model": "m"}}
    with pytest.raises(ValidationError, match="unknown monitor kind 'drfit'"):
        Monitor.model_validate({**base, "kind": "drfit"})
    with pytest.raises(ValidationError, match="window"):
        Monitor.model_validate({**base, "kind": "no_data", "window": "minute"})
    with pytest.raises(ValidationError, match="before it starts"):
        Monitor.model_validate(
            {
                **base,
                "kind": "data_drift",
                "baseline": {
                    "type": "period",
                    "start": "2026-01-02T00:00:00Z",
                    "end": "2026-01-01T00:00:00Z",
                },
            }
        )
    with pytest.raises(ValidationError, match="time zone"):
        Monitor.model_validate(
            {
                **base,
                "kind": "data_drift",
                "baseline": {"type": "period", "start": "2026-01-01", "end": "2026-01-02"},
            }
        )
    with pytest.raises(ValidationError, match="needs `upper`, `lower`"):
        Monitor.model_validate({**base, "kind": "volume", "threshold": {"type": "static"}})
    with pytest.raises(ValidationError, match="invalid options for a 'missing_values'"):
        Monitor.model_validate({**base, "kind": "missing_values", "options": {"colums": ["a"]}})
    with pytest.raises(ValidationError, match="learned threshold needs a baseline made of windows"):
        Monitor.model_validate(
            {
                **base,
                "kind": "volume",
                "baseline": {"type": "profile", "artifact": "k"},
                "threshold": {"type": "learned"},
            }
        )


# Kinds that cannot guess what to watch: the least a definition must say.
REQUIRED_OPTIONS: dict[str, dict[str, object]] = {"kpi_change": {"kpi": "revenue"}}


def test_every_kind_has_a_default_threshold_and_measures() -> None:
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.default_threshold is not None
        assert kind.description
        options = REQUIRED_OPTIONS.get(name, {})
        Monitor.model_validate(
            {"name": "x", "kind": name, "target": {"model": "m"}, "options": options}
        )


def test_a_kind_with_required_options_refuses_a_definition_without_them() -> None:
    for name in REQUIRED_OPTIONS:
        with pytest.raises(ValueError, match="kpi"):
            Monitor.model_validate({"name": "x", "kind": name, "target": {"model": "m"}})


def test_apply_is_idempotent_and_dry_run_shows_changes(store: Store) -> None:
    dry = monitors.apply(store, FILE, dry_run=True)
    assert not dry.applied
    assert [str(c).split() for c in dry.changes] == [
        ["create", "channel", "oncall"],
        ["create", "monitor", "churn-drift"],
        ["create", "monitor", "churn-silence"],
    ]
    assert monitors.list_monitors(store) == []
    assert monitors.apply(store, FILE).changed
    again = monitors.apply(store, FILE)
    assert not again.changed
    drift = monitors.get_monitor(store, "churn-drift")
    assert drift.cooldown == dt.timedelta(hours=6)
    assert drift.target.key == "churn"
    assert monitors.get_monitor(store, "churn-silence").target.key == "churn@v2"
    edited = FILE.replace("upper: 0.3", "upper: 0.4").split("  - name: churn-silence")[0]
    plan = monitors.apply(store, edited, dry_run=True)
    assert {(c.name, c.action, c.fields) for c in plan.changes if c.action != "unchanged"} == {
        ("churn-drift", "update", ("threshold",)),
        ("churn-silence", "delete", ()),
    }
    monitors.apply(store, edited)
    assert [m.name for m in monitors.list_monitors(store)] == ["churn-drift"]


def test_apply_refuses_unknown_channels_and_bad_yaml(sqlite_store: Store) -> None:
    with pytest.raises(InvalidInputError, match="channels \\['pager'\\] that are not defined"):
        monitors.apply(
            sqlite_store,
            "monitors:\n  - {name: a, kind: no_data, target: {model: m}, channels: [pager]}\n",
        )
    with pytest.raises(InvalidInputError, match="at monitors.0.kind"):
        monitors.apply(sqlite_store, "monitors:\n  - {name: a, target: {model: m}}\n")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        monitors.apply(sqlite_store, "monitors: [")


def test_a_window_shorter_than_the_models_is_refused(sqlite_store: Store) -> None:
    from vigil.api.specs import ModelSpec
    from vigil.ingestion import service

    with sqlite_store.session() as session:
        service.create_model(
            session, ModelSpec(name="daily", features=["x"], window_seconds=86_400)
        )
    with pytest.raises(InvalidInputError, match="not made of model 'daily'"):
        monitors.apply(
            sqlite_store, "monitors:\n  - {name: a, kind: no_data, target: {model: daily}}\n"
        )
    monitors.apply(
        sqlite_store,
        "monitors:\n  - {name: a, kind: no_data, target: {model: daily}, window: week}\n",
    )


def test_a_weekly_monitor_is_not_made_of_seven_day_windows_from_a_thursday(
    sqlite_store: Store,
) -> None:
    """window_seconds=604800 is a model's 7-day grid from the epoch (a Thursday), as stored
    windows always were; a monitor's week starts on Monday, so it is not made of them."""
    from vigil.api.specs import ModelSpec
    from vigil.ingestion import service

    with sqlite_store.session() as session:
        service.create_model(
            session, ModelSpec(name="seven", features=["x"], window_seconds=604_800)
        )
    with pytest.raises(InvalidInputError, match="week windows, which are not made of"):
        monitors.apply(
            sqlite_store,
            "monitors:\n  - {name: a, kind: no_data, target: {model: seven}, window: week}\n",
        )


@pytest.mark.parametrize("window", ["hour", "day", "week"])
def test_a_monitor_s_grid_is_its_window(window: str) -> None:
    monitor = Monitor.model_validate(
        {"name": "x", "kind": "no_data", "target": {"model": "m"}, "window": window}
    )
    assert monitor.grid == Grid.parse(window)
    assert monitor.window_seconds == monitor.grid.seconds
    # The monitors' helpers read a monitor's window_seconds as its grid (604800: from Monday).
    assert monitor_grid(monitor.window_seconds) == monitor.grid
    monday = dt.datetime(2026, 3, 23, tzinfo=dt.UTC)
    assert floor_window(monday + dt.timedelta(days=3), monitor.window_seconds) == (
        monitor.grid.floor(monday + dt.timedelta(days=3))
    )


def test_secrets_come_from_the_environment(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = """
channels:
  - name: hook
    config: {type: webhook, url: "https://hooks.example.com/x", secret: "${HOOK_SECRET}"}
"""
    with pytest.raises(InvalidInputError, match="HOOK_SECRET"):
        monitors.apply(sqlite_store, text)
    monkeypatch.setenv("HOOK_SECRET", "from-env")
    monitors.apply(sqlite_store, text)
    (channel,) = monitors.list_channels(sqlite_store)
    assert channel.config.secret == "from-env"  # type: ignore[union-attr]
