"""One `Settings`: built from VIGIL_* variables into sections, given to `create_app`, overridden in
tests through the app's dependency; the app's lifespan starts and stops every background worker."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import auth, make_tokens
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.config import (
    FLAT_NAMES,
    SECTIONS,
    DashboardSettings,
    EventSettings,
    MonitorSettings,
    ServerSettings,
    Settings,
    StoreSettings,
)
from vigil.errors import InvalidInputError
from vigil.server import create_app
from vigil.server.deps import get_settings
from vigil.store.core import Store

COMPACTOR = "vigil-compactor"
WORKERS = {
    "vigil-monitor",
    "vigil-events",
    "vigil-dashboard-warmer",
    "vigil-retention",
    COMPACTOR,
}


def _workers() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name in WORKERS)


def _settings(store: Store, **given: object) -> Settings:
    return Settings(store_url=str(store.engine.url), artifacts_url=store.artifacts.url, **given)


def test_one_settings_reads_every_section_from_its_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIGIL_STORE_URL", "postgresql://vigil@db/vigil")
    monkeypatch.setenv("VIGIL_PORT", "9001")
    monkeypatch.setenv("VIGIL_MAX_ARCHIVE_MEMBERS", "7")
    monkeypatch.setenv("VIGIL_MONITOR_SCHEDULER", "false")
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "10.0.0.0/8")
    monkeypatch.setenv("VIGIL_EVENTS_INTERVAL_SECONDS", "2.5")
    monkeypatch.setenv("VIGIL_DASHBOARD_WARM_SECONDS", "0")
    settings = Settings()
    assert isinstance(settings.store, StoreSettings)
    assert settings.store.store_url == settings.store_url == "postgresql://vigil@db/vigil"
    assert isinstance(settings.server, ServerSettings)
    assert settings.server.port == 9001
    assert settings.server.archive_limits.max_members == 7
    assert isinstance(settings.monitor, MonitorSettings)
    assert settings.monitor.monitor_scheduler is False
    assert (
        settings.monitor.outbound_policy() != MonitorSettings(outbound_allow="").outbound_policy()
    )
    assert isinstance(settings.events, EventSettings)
    assert settings.events.events_interval_seconds == 2.5
    assert isinstance(settings.dashboard, DashboardSettings)
    assert settings.dashboard.warm_seconds == 0
    # What is given wins over the variable; the rest of that section still comes from them.
    given = Settings(port=9002, monitor=MonitorSettings(monitor_interval_seconds=1))
    assert (given.server.port, given.server.max_archive_members) == (9002, 7)
    assert given.monitor.monitor_interval_seconds == 1
    assert given.monitor.monitor_scheduler is False
    assert Settings(dashboard={"page_budget": 2}).dashboard.warm_seconds == 0


def test_vigil_config_is_the_only_module_defining_settings() -> None:
    """One settings object: a new setting joins a section of `vigil.config.Settings` instead of
    a settings class of its own somewhere else."""
    import ast
    from pathlib import Path

    import vigil

    root = Path(vigil.__file__).parent
    defining = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ClassDef)
        and any(
            (base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")) == "BaseSettings"
            for base in node.bases
        )
    )
    assert set(defining) == {"config.py"}, defining


def test_every_setting_has_one_flat_name_that_is_its_variable() -> None:
    count = sum(len(kind.model_fields) for kind in SECTIONS.values())
    assert len(FLAT_NAMES) == count  # no two sections share a name
    assert FLAT_NAMES["dashboard_page_budget"] == ("dashboard", "page_budget")
    assert FLAT_NAMES["max_request_bytes"] == ("server", "max_request_bytes")


def test_a_bad_setting_names_its_variable_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_PORT", "eighty")
    with pytest.raises(InvalidInputError, match=r"VIGIL_PORT='eighty'.*valid integer"):
        Settings.from_env()
    monkeypatch.delenv("VIGIL_PORT")
    with pytest.raises(InvalidInputError, match=r"VIGIL_DASHBOARD_PAGE_BUDGET=-1"):
        Settings.from_env(dashboard_page_budget=-1)
    with pytest.raises(InvalidInputError, match="no_such_setting"):
        Settings.from_env(no_such_setting=1)
    with pytest.raises(TypeError, match="port given both alone and in the 'server' section"):
        Settings(port=1, server=ServerSettings())


def test_vigil_server_refuses_a_bad_variable_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGIL_REQUEST_TIMEOUT_SECONDS", "0")
    assert main(["server", "--store", "sqlite://"]) == 2
    assert (
        "VIGIL_REQUEST_TIMEOUT_SECONDS='0': Input should be greater than 0"
        in capsys.readouterr().err
    )


def test_vigil_server_builds_one_settings_from_its_options_and_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[Settings] = []
    monkeypatch.setattr("vigil.server.app.serve", lambda settings, **_: served.append(settings))
    monkeypatch.setenv("VIGIL_PORT", "9100")
    monkeypatch.setenv("VIGIL_HOST", "0.0.0.0")
    monkeypatch.setenv("VIGIL_MONITOR_INTERVAL_SECONDS", "7")
    assert main(["server", "--store", "sqlite://", "--port", "9200"]) == 0
    (settings,) = served
    assert settings.store.store_url == "sqlite://"
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 9200)  # the option wins
    assert settings.monitor.monitor_interval_seconds == 7


def test_the_former_server_settings_name_is_a_deprecated_settings() -> None:
    import vigil.server
    import vigil.server.settings

    for module in (vigil.server, vigil.server.settings):
        with pytest.deprecated_call():
            former = module.ServerSettings
        assert former is Settings
        assert former(store_url="x", max_request_bytes=2048).server.max_request_bytes == 2048


def test_create_app_refuses_a_section_for_the_settings() -> None:
    with pytest.raises(TypeError, match="vigil.config.Settings, not ServerSettings"):
        create_app(ServerSettings())  # type: ignore[arg-type]


def test_the_lifespan_starts_and_stops_every_worker(server_store: Store) -> None:
    settings = _settings(server_store, monitor_interval_seconds=3600, dashboard_warm_seconds=3600)
    app = create_app(settings, store=server_store)
    before = _workers()
    assert before == []  # nothing starts before the app does
    with TestClient(app):
        # One of each: a router's own lifespan (were one declared) does not start another.
        assert _workers() == sorted(WORKERS)
        assert app.state.monitor_scheduler is not None
        assert app.state.event_dispatcher is not None
    assert _workers() == []  # stopped and joined at shutdown
    with TestClient(app):  # an app started again starts them again
        assert _workers() == sorted(WORKERS)
    assert _workers() == []


def test_workers_turned_off_are_not_started(server_store: Store) -> None:
    settings = _settings(
        server_store, monitor_scheduler=False, events_dispatcher=False, dashboard_warm_seconds=0
    )
    app = create_app(settings, store=server_store)
    with TestClient(app):
        # The compactor is part of the write path (it folds the parts log calls append): it
        # always runs.
        assert _workers() == [COMPACTOR]
        assert app.state.monitor_scheduler is None
        assert app.state.event_dispatcher is None


def test_a_test_overrides_the_settings_through_the_app_dependency(server_store: Store) -> None:
    tokens = make_tokens(server_store)
    app = create_app(_settings(server_store, monitor_interval_seconds=3600), store=server_store)
    body = {"model": "models:/nope/1", "rows": [{"x": 1.0}]}
    writer = auth(tokens[Scope.WRITE])
    with TestClient(app) as api:
        off = api.post("/api/v1/explain", json=body, headers=writer)
        assert off.status_code == 403, off.text
        assert api.post("/api/v1/explain", content=b"{" * 4096).status_code == 401
    overridden = _settings(
        server_store,
        server_side_explain=True,
        max_request_bytes=2048,
        monitor_scheduler=False,
        events_dispatcher=False,
        dashboard_warm_seconds=0,
    )
    app.dependency_overrides[get_settings] = lambda: overridden
    with TestClient(app) as api:
        assert app.state.settings is overridden
        # Routes follow it (explanation on: the unknown model is the problem now)...
        on = api.post("/api/v1/explain", json=body, headers=writer)
        assert on.status_code == 404, on.text
        # ...the request limits too...
        big = api.post("/api/v1/explain", content=b"{" * 4096, headers=writer)
        assert big.status_code == 413, big.text
        assert big.json()["details"]["limit"] == 2048
        # ...and the workers: none of them runs but the compactor.
        assert _workers() == [COMPACTOR]
        assert app.state.monitor_scheduler is None
    app.dependency_overrides.clear()
    with TestClient(app) as api:
        assert api.post("/api/v1/explain", json=body, headers=writer).status_code == 403
        assert app.state.monitor_scheduler is not None
