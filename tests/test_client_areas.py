"""`vigil.Client`'s sub-clients: the former top-level methods still answer, with a warning,
exactly what their new home answers; each area's local and remote sides offer the same calls."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_client import T0, traffic
from vigil.client import Client
from vigil.client.aliases import CALLABLE_AREAS, FORMER_METHODS
from vigil.client.areas import alerts, kpis, monitors, performance, registry, runs

AREAS: list[tuple[type[Any], type[Any], type[Any]]] = [
    (alerts.AlertsArea, alerts.LocalAlerts, alerts.RemoteAlerts),
    (kpis.KpisArea, kpis.LocalKpis, kpis.RemoteKpis),
    (monitors.MonitorsArea, monitors.LocalMonitors, monitors.RemoteMonitors),
    (monitors.ChannelsArea, monitors.LocalChannels, monitors.RemoteChannels),
    (performance.PerformanceArea, performance.LocalPerformance, performance.RemotePerformance),
    (registry.RegistryArea, registry.LocalRegistry, registry.RemoteRegistryArea),
    (runs.RunsArea, runs.LocalRuns, runs.RemoteRuns),
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    local.create_model(
        "churn",
        features=["age", "city"],
        predictions=["label"],
        id_column="request_id",
        timestamp_column="ts",
    )
    local.log("churn", traffic(50, hours=2))
    local.log_kpi("revenue", 3.0, model="churn", version="v1")
    yield local
    local.close()


def _public(cls: type[Any]) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name == "__call__"
    }


@pytest.mark.parametrize(("protocol", "local", "remote"), AREAS, ids=lambda c: c.__name__)
def test_local_and_remote_sides_offer_the_protocols_calls(
    protocol: type[Any], local: type[Any], remote: type[Any]
) -> None:
    wanted = _public(protocol)
    assert wanted, protocol
    for side in (local, remote):
        offered = _public(side)
        assert set(offered) == set(wanted), side
        for name, signature in wanted.items():
            assert list(offered[name].parameters) == list(signature.parameters), (side, name)
            assert [p.kind for p in offered[name].parameters.values()] == [
                p.kind for p in signature.parameters.values()
            ], (side, name)


def test_every_area_the_client_documents_is_one_of_its_attributes(client: Client) -> None:
    doc = Client.__doc__ or ""
    for area in ("data", "performance", "kpis", "monitors", "channels", "alerts", "registry"):
        assert f"`client.{area}`" in doc
        assert getattr(client, area) is not None
    assert "`client.runs`" in doc


@pytest.mark.parametrize("old", sorted(FORMER_METHODS))
def test_a_former_method_warns_and_forwards_to_its_sub_client(
    client: Client, old: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    area, method = FORMER_METHODS[old]
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    answer = object()

    def spy(*args: Any, **kwargs: Any) -> object:
        seen.append((args, kwargs))
        return answer

    monkeypatch.setattr(getattr(client, area), method, spy)
    with pytest.warns(DeprecationWarning, match=rf"client\.{area}\.{method}\(") as record:
        assert getattr(client, old)("a", 2, flag=True) is answer
    assert seen == [(("a", 2), {"flag": True})]
    assert record[0].filename == __file__  # the warning points at the caller's line


@pytest.mark.parametrize("area", sorted(CALLABLE_AREAS))
def test_calling_an_area_named_like_a_former_method_warns_and_forwards(
    client: Client, area: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    method = CALLABLE_AREAS[area]
    answer = object()
    monkeypatch.setattr(getattr(client, area), method, lambda *a, **k: (a, k, answer))
    with pytest.warns(DeprecationWarning, match=rf"client\.{area}\.{method}\(") as record:
        assert getattr(client, area)("m", x=1) == (("m",), {"x": 1}, answer)
    assert record[0].filename == __file__


def test_former_reads_answer_what_the_sub_clients_answer(client: Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert client.windows("churn") == client.data.windows("churn")
        assert client.segments("churn") == client.data.segments("churn")
        assert client.profile("churn").n_rows == client.data.profile("churn").n_rows == 50
        assert client.predictions("churn", start=T0).equals(
            client.data.predictions("churn", start=T0)
        )
        assert client.kpis(name="revenue") == client.kpis.list(name="revenue")
        assert client.alerts() == client.alerts.list() == []
        assert client.list_monitors() == client.monitors.list() == []
        assert client.list_channels() == client.channels.list() == []
        assert client.performance("churn") == client.performance.realized("churn")


def test_the_new_calls_do_not_warn(client: Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert sum(w.n_rows for w in client.data.windows("churn")) == 50
        assert [k.value for k in client.kpis.list(name="revenue")] == [3.0]
        assert client.monitors.list() == []
        assert client.alerts.list(state="open") == []
