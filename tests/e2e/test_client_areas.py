"""Each sub-client's two sides against one store: a remote client through a real server (uvicorn
on loopback) and a local client on the server's own store answer every area's reads alike, and
what one side writes the other reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.e2e.live import LiveServer
from tests.test_client import T0, traffic
from vigil.client import Client
from vigil.client.areas.monitors import MonitorRun
from vigil.errors import ConflictError, NotFoundError

pytestmark = pytest.mark.slow

MONITORS = """
monitors:
  - name: silence
    kind: no_data
    target: {model: churn}
    window: hour
"""


def test_local_and_remote_sides_answer_alike(
    live: LiveServer, admin_token: str, tmp_path: Path
) -> None:
    remote = Client(live.url, token=admin_token, spool_dir=None)
    local = Client.local(live.store_url, live.artifacts_url)
    try:
        remote.create_model(
            "churn",
            features=["age"],
            predictions=["label"],
            id_column="request_id",
            timestamp_column="ts",
            segments=["city"],
        )
        remote.log("churn", traffic(200, hours=3), version="v1")
        remote.log_kpi("revenue", 2.0, model="churn", version="v1", timestamp=T0)
        remote.log_kpi("revenue", 4.0, model="churn", version="v2", timestamp=T0)
        sides = (local, remote)

        # data
        windows = [c.data.windows("churn") for c in sides]
        assert windows[0] == windows[1]
        assert sum(w.n_rows for w in windows[0]) == 200
        assert local.data.segments("churn") == remote.data.segments("churn") != []
        profiles = [c.data.profile("churn") for c in sides]
        assert profiles[0].to_dict() == profiles[1].to_dict()
        rows = [c.data.predictions("churn", start=T0) for c in sides]
        assert rows[0].sort_by("vigil_id").equals(rows[1].sort_by("vigil_id"))

        # kpis
        assert local.kpis.list(name="revenue") == remote.kpis.list(name="revenue")
        assert local.kpis.series("revenue", "churn").to_dict() == (
            remote.kpis.series("revenue", "churn").to_dict()
        )
        compared = [c.kpis.compare("revenue", "churn", a="v1", b="v2") for c in sides]
        assert compared[0].to_dict() == compared[1].to_dict()

        # monitors, written remotely, read on both sides
        plan = remote.monitors.apply(MONITORS)
        assert [c.action for c in plan.changes] == ["create"]
        assert local.monitors.list() == remote.monitors.list()
        assert local.monitors.get("silence") == remote.monitors.get("silence")
        with pytest.raises(ConflictError):
            remote.monitors.create(remote.monitors.get("silence"))
        with pytest.raises(ConflictError):
            local.monitors.create(local.monitors.get("silence"))
        run = remote.monitors.run(T0, T0 + dt.timedelta(hours=3))
        assert isinstance(run, MonitorRun)
        assert run.evaluated == 3
        assert local.channels.list() == remote.channels.list() == []

        # alerts
        assert local.alerts.list() == remote.alerts.list()
        with pytest.raises(NotFoundError):
            remote.alerts.get(999)
        with pytest.raises(NotFoundError):
            local.alerts.get(999)

        # performance (no labels logged: the same empty coverage on both sides)
        assert local.performance.realized("churn") == remote.performance.realized("churn")

        # registry and runs
        assert local.registry.list_models() == remote.registry.list_models() == []
        with pytest.raises(NotFoundError):
            remote.registry.get_model("ghost")
        assert local.runs.search().runs == remote.runs.search().runs == []

        remote.monitors.delete("silence")
        assert local.monitors.list() == [] == remote.monitors.list()
    finally:
        remote.close()
        local.close()
