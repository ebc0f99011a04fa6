"""A retraining cadence without advice names the missing piece of the model's own data: the
typed reason (`RetrainingCadence.missing`), in the API's JSON and on the dashboard's section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import vigil
from tests.collab.conftest import auth
from vigil.analysis.cadence import Missing
from vigil.api.specs import Scope
from vigil.client import Client
from vigil.lifecycle.cadence import retraining_cadence
from vigil.registry import Registry
from vigil.registry.core import RegistryCore
from vigil.server import Settings, create_app
from vigil.server.dashboard.loaders import model_of
from vigil.server.dashboard.sections import retraining
from vigil.store.core import Store

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
REGISTERED = T0 + 2 * DAY + dt.timedelta(hours=18)
"""The first version's registration: after the first three days of traffic."""


@pytest.fixture
def urls(tmp_path: Path) -> tuple[str, str]:
    return f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")


@pytest.fixture
def store(urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A store whose registry's clock is `REGISTERED` (a synthetic past)."""
    monkeypatch.setattr(RegistryCore, "_now", staticmethod(lambda: REGISTERED))
    opened = Store.open(*urls)
    try:
        yield opened
    finally:
        opened.close()


def _sample(rng: np.random.Generator, mean: float, n: int = 200) -> dict[str, np.ndarray]:
    return {"x": rng.normal(mean, 1.0, n), "y": rng.normal(mean, 1.0, n)}


def _monitored(urls: tuple[str, str], days: range, *, registry_model: str | None = None) -> None:
    """Monitored model `churn` (features x, y) with a day of traffic at each of `days`."""
    rng = np.random.default_rng(0)
    client = Client.local(*urls)
    try:
        client.create_model("churn", features=["x", "y"], registry_model=registry_model)
        for day in days:
            client.log(
                "churn", _sample(rng, 0.0), timestamp=T0 + day * DAY + 12 * dt.timedelta(hours=1)
            )
        client.flush()
    finally:
        client.close()


def _register(store: Store, model_file: Path, *, profile: bool, production: bool = True) -> int:
    registry = Registry(store, actor="alice")
    data = vigil.profile(_sample(np.random.default_rng(1), 0.0, 2000)) if profile else None
    version = registry.register("churn", model_file, profile=data).version
    if production:
        registry.set_alias("churn", "production", version)
    return version


def test_a_model_linked_to_no_registry_model(store: Store, urls: tuple[str, str]) -> None:
    _monitored(urls, range(3))
    cadence = retraining_cadence(store, "churn")
    assert cadence.missing is not None
    assert cadence.missing.kind is Missing.REGISTRY_MODEL
    assert cadence.missing.message.startswith(
        "model 'churn' is not linked to a registry model, and the registry has no model named "
        "'churn'"
    )
    assert cadence.advice == cadence.missing.message
    assert (cadence.windows, cadence.retrain_every_days, cadence.versions) == (0, None, ())


def test_a_model_linked_to_a_registry_model_that_does_not_exist(
    store: Store, urls: tuple[str, str]
) -> None:
    _monitored(urls, range(3), registry_model="churn-clf")
    missing = retraining_cadence(store, "churn").missing
    assert missing is not None
    assert missing.kind is Missing.REGISTRY_MODEL
    assert missing.message.startswith(
        "model 'churn' is linked to registry model 'churn-clf', which does not exist"
    )


def test_a_registry_model_without_versions(store: Store, urls: tuple[str, str]) -> None:
    _monitored(urls, range(3))
    Registry(store, actor="alice").create_model("churn")
    missing = retraining_cadence(store, "churn").missing
    assert missing is not None
    assert missing.kind is Missing.VERSIONS
    assert missing.message.startswith("registry model 'churn' has no versions")


def test_versions_without_a_training_profile(
    store: Store, urls: tuple[str, str], model_file: Path
) -> None:
    _monitored(urls, range(6))
    _register(store, model_file, profile=False)
    _register(store, model_file, profile=False)
    missing = retraining_cadence(store, "churn").missing
    assert missing is not None
    assert missing.kind is Missing.TRAINING_PROFILE
    assert missing.message.startswith(
        "no registered version of 'churn' has a training profile (versions 1, 2 have none)"
    )


def test_no_production_rows(store: Store, urls: tuple[str, str], model_file: Path) -> None:
    _monitored(urls, range(0))
    _register(store, model_file, profile=True)
    missing = retraining_cadence(store, "churn").missing
    assert missing is not None
    assert missing.kind is Missing.PRODUCTION_DATA
    assert missing.message == "model 'churn' has no logged production rows"


def test_no_production_rows_in_the_range_asked(
    store: Store, urls: tuple[str, str], model_file: Path
) -> None:
    _monitored(urls, range(6))
    _register(store, model_file, profile=True)
    late = retraining_cadence(store, "churn", start=T0 + 30 * DAY)
    assert late.missing is not None
    assert late.missing.kind is Missing.PRODUCTION_DATA
    assert (
        late.missing.message == "model 'churn' has no logged production rows in [2026-07-01, ...)"
    )


def test_no_window_with_min_rows(store: Store, urls: tuple[str, str], model_file: Path) -> None:
    _monitored(urls, range(6))
    _register(store, model_file, profile=True)
    missing = retraining_cadence(store, "churn", min_rows=500).missing
    assert missing is not None
    assert missing.kind is Missing.ROWS
    assert missing.message == (
        "no window of model 'churn' has at least 500 rows (min_rows); the largest has 200"
    )


def test_every_window_precedes_the_registration(
    store: Store, urls: tuple[str, str], model_file: Path
) -> None:
    _monitored(urls, range(3))  # June 1-3; the version is registered on June 3, 18:00
    _register(store, model_file, profile=True)
    cadence = retraining_cadence(store, "churn")
    assert cadence.missing is not None
    assert cadence.missing.kind is Missing.WINDOW_AFTER_REGISTRATION
    assert cadence.missing.message.startswith(
        "no production window after version 1's registration on 2026-06-03 18:00 UTC (its first "
        "version with a training profile): model 'churn''s windows run from 2026-06-01 to "
        "2026-06-03"
    )


def test_windows_served_by_a_version_without_a_profile(
    store: Store, urls: tuple[str, str], model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _monitored(urls, range(6))
    monkeypatch.setattr(RegistryCore, "_now", staticmethod(lambda: T0 - DAY))
    _register(store, model_file, profile=False)  # v1 serves every window
    monkeypatch.setattr(RegistryCore, "_now", staticmethod(lambda: REGISTERED))
    _register(store, model_file, profile=True, production=False)
    cadence = retraining_cadence(store, "churn")
    assert cadence.missing is not None
    assert cadence.missing.kind is Missing.PROFILED_SERVING_VERSION
    assert cadence.missing.message == (
        "model 'churn''s windows after version 2's registration on 2026-06-03 18:00 UTC were "
        "served (@production) by version 1, without a training profile"
    )
    assert cadence.skipped == ("version 1 has no training profile",)


def test_fewer_windows_than_persistence(
    store: Store, urls: tuple[str, str], model_file: Path
) -> None:
    _monitored(urls, range(4))  # one window (June 4) after the registration
    _register(store, model_file, profile=True)
    cadence = retraining_cadence(store, "churn", persistence=2)
    assert cadence.windows == 1
    assert cadence.missing is not None
    assert cadence.missing.kind is Missing.WINDOWS
    assert cadence.missing.message == (
        "only 1 window since 2026-06-04 could be compared with a training profile, need 2 in a "
        "row (persistence) to date a drift onset"
    )
    assert cadence.retrain_every_days is None
    # The windows before the registration are named, not silently dropped.
    assert cadence.skipped == (
        "3 windows from 2026-06-01 to 2026-06-03 precede version 1's registration on "
        "2026-06-03 18:00 UTC, the first with a training profile",
    )
    enough = retraining_cadence(store, "churn", persistence=1)
    assert enough.missing is None
    assert enough.advice.startswith("no lasting drift in 1 windows")


def test_the_reason_in_the_api_json_and_the_dashboard_section(
    store: Store, urls: tuple[str, str]
) -> None:
    _monitored(urls, range(3))
    token = store.create_token(Scope.READ, name="bob", owner="bob")
    settings = Settings(store_url=urls[0], artifacts_url=urls[1], monitor_scheduler=False)
    with TestClient(create_app(settings, store=store)) as api:
        answer = api.get("/api/v1/models/churn/retraining", headers=auth(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["missing"]["kind"] == "registry_model"
    assert body["missing"]["message"] == body["advice"]
    assert "is not linked to a registry model" in body["advice"]
    section = retraining(store, model_of(store, "churn"), None)
    assert section.empty == body["missing"]["message"]
    assert section.rows == []
