"""The demo's traffic follows its registrations, so its retraining cadence has windows to compare
and the dashboard's section shows the advice."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.server.dashboard.conftest import Demo, sign_in
from vigil.api.specs import Scope
from vigil.demo.data import V1_REGISTERED, V2_REGISTERED
from vigil.lifecycle.cadence import retraining_cadence
from vigil.store.core import Store


def test_the_demo_store_yields_advice(demo: Demo) -> None:
    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        cadence = retraining_cadence(store, "churn")
    finally:
        store.close()
    assert cadence.missing is None
    assert cadence.windows == 30  # every day of traffic, each against its serving version
    v1, v2 = cadence.versions
    # The demo's runs end when it runs, after the story's registrations: training is dated by
    # the registration, the earlier of the two.
    assert (v1.version, v1.trained_at, v1.trained_from) == (1, V1_REGISTERED, "version_created")
    assert (v2.version, v2.trained_at, v2.windows) == (2, V2_REGISTERED, 15)
    assert (v1.windows, v1.drifted_windows, v1.drift_began) == (15, 0, None)
    # The planted change is full on the week's last two days: PSI above 0.2 on 5 of 9 features.
    assert v2.drift_began == dt.datetime(2026, 11, 7, tzinfo=dt.UTC)
    assert v2.days_to_drift == pytest.approx((v2.drift_began - V2_REGISTERED) / dt.timedelta(1))
    assert cadence.retrain_every_days == 10  # floor(0.8 * 13.25)
    assert cadence.advice.endswith("retrain every 10 days")


def test_the_cadence_section_shows_the_demo_advice(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    section = web.get("/ui/models/churn/section/retraining?days=30")
    assert section.status_code == 200
    text = section.text
    assert "retrain every 10 days" in text
    assert 'class="empty"' not in text
    assert "<td>v1</td><td>2026-10-09</td><td>0 of 15</td>" in text
    assert "<td>v2</td><td>2026-10-24</td><td>2 of 15</td><td>2026-11-07</td>" in text
    assert "<svg" in text  # the drifted windows, day by day
