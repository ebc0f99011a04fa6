"""Who did it: two teammates with their own tokens; every change records its actor and the API
and CLI filter by it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.commands import table
from tests.collab.conftest import auth, upload_version
from tests.monitor.conftest import T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.api.tracking import DatasetVersionIn, DatasetVersionOut
from vigil.cli import main
from vigil.registry import Registry
from vigil.store.core import Store
from vigil.tracking.datasets import DatasetService, prepare, push


def _push_dataset(api: TestClient, token: str, data: bytes, tmp_path: Path) -> DatasetVersionOut:
    path = tmp_path / f"d{len(data)}.csv"
    path.write_bytes(data)
    headers = auth(token)

    def missing(hashes: list[str]) -> list[str]:
        answer = api.post(
            "/api/v1/datasets/chunks/missing", json={"hashes": hashes}, headers=headers
        )
        result: list[str] = answer.json()["hashes"]
        return result

    def put_chunk(digest: str, chunk: bytes) -> None:
        assert api.put(
            f"/api/v1/datasets/chunks/{digest}", content=chunk, headers=headers
        ).is_success

    def register(spec: DatasetVersionIn) -> DatasetVersionOut:
        answer = api.post(
            "/api/v1/datasets/versions", json=spec.model_dump(mode="json"), headers=headers
        )
        assert answer.status_code == 201, answer.text
        return DatasetVersionOut.model_validate(answer.json())

    return push(prepare(path), "features", missing=missing, put_chunk=put_chunk, register=register)


def test_each_teammate_is_recorded_and_filtered_by(
    api: TestClient, server_store: Store, teammates: dict[str, str], tmp_path: Path
) -> None:
    alice, bob = auth(teammates["alice"]), auth(teammates["bob"])

    # Runs: the owner is the token's owner, whatever the body says.
    for who in (alice, bob, bob):
        created = api.post("/api/v1/runs", json={"experiment": "churn"}, headers=who)
        assert created.status_code == 201, created.text
    found = api.post("/api/v1/runs/search", json={"actor": "bob"}, headers=alice).json()
    assert [r["info"]["owner"] for r in found["runs"]] == ["bob", "bob"]

    # Dataset versions.
    _push_dataset(api, teammates["alice"], b"a,b\n1,2\n", tmp_path)
    _push_dataset(api, teammates["bob"], b"a,b\n1,2\n3,4\n", tmp_path)
    versions = api.get("/api/v1/datasets/versions", params={"actor": "alice"}, headers=bob).json()
    assert [(v["version"], v["owner"]) for v in versions] == [(1, "alice")]

    # Model versions and alias moves.
    upload_version(api, teammates["alice"], "churn")
    upload_version(api, teammates["bob"], "churn")
    api.put("/api/v1/registry/models/churn/aliases/staging", json={"version": 2}, headers=alice)
    mine = api.get("/api/v1/registry/models/churn/versions", params={"actor": "bob"}, headers=alice)
    assert [v["created_by"] for v in mine.json()] == ["bob"]
    moves = api.get(
        "/api/v1/registry/models/churn/events", params={"actor": "alice"}, headers=bob
    ).json()
    assert [(e["kind"], e["to_version"]) for e in moves] == [
        ("model_created", None),
        ("version_created", 1),
        ("alias_set", 2),
    ]

    # Monitor changes.
    for name, who in (("gaps", alice), ("silence", bob)):
        body = {"name": name, "kind": "no_data", "target": {"model": "m"}}
        assert api.put(f"/api/v1/monitors/{name}", json=body, headers=who).is_success
    changed = {"name": "gaps", "kind": "no_data", "target": {"model": "m"}, "severity": "critical"}
    assert api.put("/api/v1/monitors/gaps", json=changed, headers=bob).is_success
    by_alice = api.get("/api/v1/monitors", params={"actor": "alice"}, headers=bob).json()
    assert [m["name"] for m in by_alice] == ["gaps"]  # she created it, bob changed it since
    by_bob = api.get("/api/v1/monitors", params={"actor": "bob"}, headers=bob).json()
    assert [m["name"] for m in by_bob] == ["gaps", "silence"]
    history = api.get(
        "/api/v1/events",
        params={"subject": "gaps", "types": "monitor.created,monitor.updated"},
        headers=bob,
    ).json()
    assert [(e["type"], e["actor"], e["data"]["fields"]) for e in history["events"]] == [
        ("monitor.created", "alice", []),
        ("monitor.updated", "bob", ["severity"]),
    ]

    # Alert actions: bob acknowledges, alice resolves; each teammate's alerts.
    client = client_for(server_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 1))
    monitors.backfill(server_store, T0, T0 + dt.timedelta(hours=3), now=T0 + dt.timedelta(hours=3))
    (alert,) = api.get("/api/v1/alerts", params={"monitor": "gaps"}, headers=bob).json()
    assert api.post(f"/api/v1/alerts/{alert['id']}/ack", headers=bob).is_success
    assert api.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=alice).is_success
    acted = api.get("/api/v1/alerts", params={"actor": "bob"}, headers=bob).json()
    assert [a["id"] for a in acted] == [alert["id"]]
    assert [(h["event"], h["actor"]) for h in acted[0]["history"]][1:] == [
        ("acknowledged", "bob"),
        ("resolved", "alice"),
    ]
    assert api.get("/api/v1/alerts", params={"actor": "carol"}, headers=bob).json() == []
    client.close()


def test_cli_filters_by_actor(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")
    store = Store.open(url, artifacts)
    Registry(store, actor="alice").register("churn", model_file)
    Registry(store, actor="bob").register("churn", model_file)
    Registry(store, actor="bob").retire_version("churn", 2)
    DatasetService(store).add(model_file, "weights", owner="alice")
    store.close()
    where = ["--store", url, "--artifacts", artifacts]

    assert main(["models", "versions", "churn", "--actor", "bob", "--json", *where]) == 0
    out = capsys.readouterr().out
    assert '"created_by": "bob"' in out
    assert '"created_by": "alice"' not in out
    assert main(["models", "versions", "churn", "--state", "active", *where]) == 0
    rows = table(capsys.readouterr().out)
    assert [row[:2] for row in rows] == [["VERSION", "STATE"], ["1", "active"]]
    assert main(["models", "history", "churn", "--actor", "bob", *where]) == 0
    kinds = [row[2] for row in table(capsys.readouterr().out)]
    assert kinds == ["EVENT", "version_created", "version_retired"]
    assert main(["models", "restore", "churn", "2", *where]) == 0
    assert "churn version 2 is active" in capsys.readouterr().out
    assert main(["datasets", "list", "--actor", "bob", *where]) == 0
    assert capsys.readouterr().out == "no dataset versions\n"
    assert main(["datasets", "list", "--actor", "alice", *where]) == 0
    assert "weights@1" in capsys.readouterr().out


def test_the_local_transport_filters_runs_by_actor(tmp_path: Path) -> None:
    from vigil.api.tracking import SearchRunsIn
    from vigil.client.transport import LocalTransport
    from vigil.tracking.service import TrackingService

    transport = LocalTransport(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    tracking = TrackingService(transport.store)
    experiment = tracking.create_experiment("shared")
    for owner in ("alice", "bob", "bob"):
        tracking.create_run(experiment.id, owner=owner)
    page = transport.search_runs(SearchRunsIn(experiments=["shared"], actor="bob"))
    assert [run.info.owner for run in page.runs] == ["bob", "bob"]
    transport.close()


CLAIMS = {
    "owner": "mallory",
    "user": "mallory",
    "user_id": "mallory",
    "created_by": "mallory",
    "updated_by": "mallory",
    "actor": "mallory",
}


def test_a_name_in_a_request_body_is_never_the_recorded_actor(
    api: TestClient, teammates: dict[str, str]
) -> None:
    """Every write body below also carries the names of `CLAIMS`: each is refused (422) or
    ignored; what is recorded is the token's owner, alice."""
    alice = auth(teammates["alice"])

    def send(method: str, path: str, body: dict[str, object]) -> None:
        claimed = api.request(method, path, json={**body, **CLAIMS}, headers=alice)
        assert claimed.status_code == 422 or claimed.is_success, (path, claimed.text)
        if claimed.status_code == 422:  # refused: do it without the claims, to have a record
            plain = api.request(method, path, json=body, headers=alice)
            assert plain.is_success, (path, plain.text)

    send("POST", "/api/v1/experiments", {"name": "churn"})
    send("POST", "/api/v1/runs", {"experiment": "churn", "tags": {"mlflow.user": "mallory"}})
    send("POST", "/api/v1/registry/models", {"name": "scorer"})
    upload_version(api, teammates["alice"], "scorer")
    send("PUT", "/api/v1/registry/models/scorer/aliases/staging", {"version": 1})
    send(
        "PUT",
        "/api/v1/monitors/gaps",
        {"name": "gaps", "kind": "no_data", "target": {"model": "m"}},
    )
    send("POST", "/api/v1/kpis", {"name": "revenue", "value": 1.5})

    experiment = api.get("/api/v1/experiments/churn", headers=alice).json()
    assert experiment["owner"] == "alice"
    runs = api.post("/api/v1/runs/search", json={"experiments": ["churn"]}, headers=alice).json()
    assert [r["info"]["owner"] for r in runs["runs"]] == ["alice"]
    run_id = runs["runs"][0]["info"]["id"]
    logged = {"tags": {"mlflow.user": "trudy"}}
    assert api.post(f"/api/v1/runs/{run_id}/log-batch", json=logged, headers=alice).is_success
    mlflow_run = api.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}, headers=alice)
    assert mlflow_run.json()["run"]["info"]["user_id"] == "alice"
    tags = {t["key"]: t["value"] for t in mlflow_run.json()["run"]["data"]["tags"]}
    assert "mlflow.user" not in tags  # MLflow's user of the run is its owner, alice
    assert tags["vigil.claimed_user"] == "trudy"
    model = api.get("/api/v1/registry/models/scorer", headers=alice).json()
    assert model["owner"] == "alice"
    events = api.get("/api/v1/registry/models/scorer/events", headers=alice).json()
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("model_created", "alice"),
        ("version_created", "alice"),
        ("alias_set", "alice"),
    ]
    changes = api.get("/api/v1/events", params={"subject": "gaps"}, headers=alice).json()
    assert [e["actor"] for e in changes["events"]] == ["alice"]
    kpis = api.get("/api/v1/kpis", params={"name": "revenue"}, headers=alice).json()
    assert [k["created_by"] for k in kpis] == ["alice"]
    for path in ("/api/v1/monitors", "/api/v1/datasets/versions"):
        assert api.get(path, params={"actor": "mallory"}, headers=alice).json() == []


def test_local_kpis_record_the_os_user(tmp_path: Path) -> None:
    from vigil.actors import current_user
    from vigil.api.specs import KpiIn
    from vigil.client.transport import LocalTransport
    from vigil.ingestion import service

    transport = LocalTransport(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    assert transport.send_kpi(KpiIn(name="revenue", value=2.0)).created_by == current_user()
    with transport.store.session() as session:
        (kpi,) = service.list_kpis(session, name="revenue")
    assert kpi.created_by == current_user()
    transport.close()
