"""Retraining cadence on synthetic stored windows: two versions, drift starting a known number of
days after each one's training."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

import vigil
from tests.cli.commands import table
from tests.collab.conftest import auth
from vigil.analysis.cadence import retrain_every
from vigil.api.specs import Scope
from vigil.api.tracking import RunStatus
from vigil.cli import main
from vigil.client import Client
from vigil.errors import NotFoundError
from vigil.lifecycle.cadence import retraining_cadence
from vigil.registry import Registry
from vigil.server import Settings, create_app
from vigil.store.core import Store
from vigil.store.registry_tables import RegistryEvent, RegistryModelVersion
from vigil.tracking.service import TrackingService

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ROWS = 400


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _sample(rng: np.random.Generator, mean: float, n: int) -> dict[str, np.ndarray]:
    return {"x": rng.normal(mean, 1.0, n), "y": rng.normal(mean, 1.0, n)}


@pytest.fixture
def history(tmp_path: Path, model_file: Path) -> tuple[str, str]:
    """v1 trained at T0 on mean 0 (production drifts to mean 2 on day 10, after a one-day
    glitch on day 5); v2 trained at day 30 on mean 2 (production drifts to mean 4 on day
    30 + 14). Daily windows for 60 days."""
    url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")
    rng = np.random.default_rng(0)
    store = Store.open(url, artifacts)
    tracking = TrackingService(store)
    experiment = tracking.ensure_experiment("churn")
    registry = Registry(store, actor="alice")
    for number, (trained, mean) in enumerate([(T0, 0.0), (T0 + 30 * DAY, 2.0)], start=1):
        run = tracking.create_run(experiment.id, start_ms=_ms(trained - dt.timedelta(hours=2)))
        tracking.end_run(run.id, RunStatus.FINISHED, end_ms=_ms(trained))
        profile = vigil.profile(_sample(rng, mean, 4000))
        registry.register("churn", model_file, run_id=run.id, profile=profile)
        registry.set_alias("churn", "production", number)
        deployed = trained + dt.timedelta(hours=3)
        with store.session() as session:  # a synthetic past: the registry's clock was then
            session.execute(
                update(RegistryModelVersion)
                .where(RegistryModelVersion.version == number)
                .values(created_at=deployed)
            )
            session.execute(
                update(RegistryEvent).where(RegistryEvent.to_version == number).values(at=deployed)
            )
            session.commit()
    client = Client.local(url, artifacts)
    client.create_model("churn", features=["x", "y"])
    for day in range(60):
        mean = (0.0 if day < 10 else 2.0) if day < 30 else (2.0 if day < 44 else 4.0)
        mean = 2.0 if day == 5 else mean
        client.log(
            "churn", _sample(rng, mean, ROWS), timestamp=T0 + day * DAY + 12 * dt.timedelta(hours=1)
        )
    client.close()
    store.close()
    return url, artifacts


def test_drift_begins_a_known_number_of_days_after_each_training(history: tuple[str, str]) -> None:
    store = Store.open(*history)
    cadence = retraining_cadence(store, "churn")
    assert cadence.windows == 60
    v1, v2 = cadence.versions
    assert (v1.version, v1.trained_from, v1.windows) == (1, "run_end", 30)
    assert v1.drift_began == T0 + 10 * DAY
    # Days count from the end of the training run (T0), to the first drifted window's start.
    assert v1.days_to_drift == pytest.approx(10.0)
    assert v2.drift_began == T0 + 44 * DAY
    assert v2.days_to_drift == pytest.approx(14.0)
    # The one-day glitch drifted but is not an onset: drift must last two windows (with
    # persistence 1 it would be).
    glitches = [w.start for w in cadence.history if w.drifted and w.start < T0 + 10 * DAY]
    assert glitches == [T0 + 5 * DAY]
    assert (v1.drifted_windows, v2.drifted_windows) == (21, 16)
    assert cadence.drifted_windows == 37
    assert cadence.drift_share == pytest.approx(37 / 60)
    eager = retraining_cadence(store, "churn", persistence=1)
    assert [v.days_to_drift for v in eager.versions] == [5.0, 14.0]
    assert cadence.median_days_to_drift == pytest.approx(12.0)
    assert cadence.retrain_every_days == 9  # floor(0.8 * 12)
    assert cadence.advice == (
        "drift appears about 12 days after training (median of 2 versions; 62% of 60 windows "
        "drifted); retrain every 9 days"
    )
    # Only the first month: v1 alone, drift after 10 days.
    early = retraining_cadence(store, "churn", end=T0 + 30 * DAY)
    assert [v.version for v in early.versions] == [1]
    assert early.median_days_to_drift == pytest.approx(10.0)
    # Before any drift: no cadence needed yet.
    calm = retraining_cadence(store, "churn", end=T0 + 10 * DAY)
    assert calm.retrain_every_days is None
    assert calm.advice == (
        "no lasting drift in 10 windows (10% drifted), up to 10 days after training: "
        "no retraining cadence is needed yet"
    )
    with pytest.raises(NotFoundError):
        retraining_cadence(store, "nope")
    store.close()


def test_the_rule_and_the_api_and_cli(
    history: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert [retrain_every(n) for n in (0.5, 1.0, 12.0, 30.0)] == [1, 1, 9, 24]
    url, artifacts = history
    store = Store.open(url, artifacts)
    token = store.create_token(Scope.READ, name="bob", owner="bob")
    with TestClient(
        create_app(Settings(store_url=url, artifacts_url=artifacts), store=store)
    ) as api:
        answer = api.get("/api/v1/models/churn/retraining", headers=auth(token))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["median_days_to_drift"], body["retrain_every_days"]) == (12.0, 9)
        assert [v["days_to_drift"] for v in body["versions"]] == [10.0, 14.0]
        assert body["history"] == []  # only with history=true
        full = api.get(
            "/api/v1/models/churn/retraining", params={"history": "true"}, headers=auth(token)
        )
        assert len(full.json()["history"]) == 60
        missing = api.get("/api/v1/models/nope/retraining", headers=auth(token))
        assert missing.status_code == 404
        bad = api.get(
            "/api/v1/models/churn/retraining", params={"persistence": 0}, headers=auth(token)
        )
        assert bad.status_code == 422
    store.close()
    assert main(["models", "retraining", "churn", "--store", url, "--artifacts", artifacts]) == 0
    out = capsys.readouterr().out
    assert "retrain every 9 days" in out
    rows = table(out.splitlines()[1] + "\n" + "\n".join(out.splitlines()[2:4]))
    assert rows[0] == ["VERSION", "WINDOWS", "DRIFTED", "DAYS TO DRIFT", "DAYS WATCHED"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert "10" in [cell for row in rows[1:] for cell in row]
