"""Setting and reading a model's retention policy: the API (scopes, actor, error bodies), the
client in both modes, and `vigil models retention` / `vigil db compact`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.retention.helpers import SPEC, START, log_hours
from tests.server.conftest import auth, make_tokens
from tests.waits import patience, wait_until
from vigil.api.retention import RetentionIn, retention_policy
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.client import Client
from vigil.errors import InvalidInputError
from vigil.ingestion import retention, service
from vigil.ingestion.retention_worker import RetentionWorker
from vigil.server import Settings, create_app
from vigil.store.core import Store
from vigil.store.repositories import TokenRepository

PATH = f"/api/v1/models/{SPEC.name}/retention"


@pytest.fixture
def app(store: Store) -> Iterator[TestClient]:
    config = Settings(store_url=str(store.engine.url), artifacts_url=store.artifacts.url)
    with store.session() as session:
        service.create_model(session, SPEC)
    with TestClient(create_app(config, store=store)) as client:
        yield client


def test_the_api_reads_and_replaces_a_policy_as_the_tokens_owner(
    app: TestClient, store: Store
) -> None:
    tokens = make_tokens(store)
    with store.session() as session:
        _, owner_token = TokenRepository(session).create(Scope.ADMIN, owner="ana")
        session.commit()
    empty = app.get(PATH, headers=auth(tokens[Scope.READ]))
    assert empty.status_code == 200
    assert empty.json()["rows_days"] is None
    assert empty.json()["updated_at"] is None
    body = {"rows_days": 30, "daily_after_days": 7, "monthly_after_days": 90}
    refused = app.put(PATH, json=body, headers=auth(tokens[Scope.WRITE]))
    assert refused.status_code == 403
    answer = app.put(PATH, json={**body, "updated_by": "mallory"}, headers=auth(owner_token))
    assert answer.status_code == 422  # the actor is never a name the client sends
    answer = app.put(PATH, json=body, headers=auth(owner_token))
    assert answer.status_code == 200, answer.text
    read = app.get(PATH, headers=auth(tokens[Scope.READ])).json()
    assert read["updated_by"] == "ana"
    assert (read["rows_days"], read["daily_after_days"], read["monthly_after_days"]) == (30, 7, 90)
    assert read["alerts_days"] is None


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"rows_days": 0}, "rows_days"),
        ({"events_days": -3}, "events_days"),
        ({"alerts_days": "ten"}, "alerts_days"),
        ({"rows_days": 10**12}, "rows_days"),
        ({"daily_after_days": 30, "monthly_after_days": 7}, "monthly_after_days=7"),
    ],
)
def test_bad_values_are_422_naming_them(
    app: TestClient, store: Store, body: dict[str, object], named: str
) -> None:
    answer = app.put(PATH, json=body, headers=auth(make_tokens(store)[Scope.ADMIN]))
    assert answer.status_code == 422
    assert named in answer.text


def test_an_unknown_model_is_404(app: TestClient, store: Store) -> None:
    answer = app.get("/api/v1/models/nope/retention", headers=auth(make_tokens(store)[Scope.READ]))
    assert answer.status_code == 404
    assert "nope" in answer.json()["message"]


def test_retention_policy_names_the_bad_value() -> None:
    with pytest.raises(InvalidInputError, match=r"monthly_after_days=2 must be at least"):
        retention_policy(daily_after_days=5, monthly_after_days=2)
    with pytest.raises(InvalidInputError, match=r"rows_days=0"):
        retention_policy(rows_days=0)


def test_the_local_client_sets_and_reads(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    client = Client.local(str(store.engine.url), store.artifacts.url)
    client.retention.set(SPEC.name, alerts_days=14)
    assert client.retention.get(SPEC.name).alerts_days == 14
    assert client.retention.get(SPEC.name).updated_by != ""
    with pytest.raises(InvalidInputError, match="alerts_days=0"):
        client.retention.set(SPEC.name, alerts_days=0)


def test_the_cli_changes_only_the_settings_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_url = f"sqlite:///{tmp_path / 'v.db'}"
    opts = ["--store", store_url, "--artifacts", str(tmp_path / "artifacts")]
    store = Store.open(store_url, str(tmp_path / "artifacts"))
    try:
        log_hours(store, 30, rows=5)
    finally:
        store.close()
    name = SPEC.name
    assert (
        main(["models", "retention", name, "--rows-days", "30", "--daily-after-days", "1", *opts])
        == 0
    )
    assert main(["models", "retention", name, "--events-days", "9", *opts]) == 0
    capsys.readouterr()
    assert main(["models", "retention", name, "--json", *opts]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["rows_days"], shown["daily_after_days"], shown["events_days"]) == (30, 1, 9)
    assert main(["models", "retention", name, "--rows-days", "forever", *opts]) == 0
    capsys.readouterr()
    assert main(["models", "retention", name, "--json", *opts]) == 0
    assert json.loads(capsys.readouterr().out)["rows_days"] is None
    assert main(["models", "retention", name, "--rows-days", "0", *opts]) == 2
    assert "'0' is not a number of days" in capsys.readouterr().err
    assert (
        main(
            [
                "models",
                "retention",
                name,
                "--monthly-after-days",
                "1",
                "--daily-after-days",
                "5",
                *opts,
            ]
        )
        == 2
    )
    assert "monthly_after_days=1" in capsys.readouterr().err
    assert main(["models", "retention", "nope", *opts]) == 2
    assert "nope" in capsys.readouterr().err
    # The history is from 2026-10-30, more than a day old: a dry run says so, then compact does it.
    assert main(["db", "compact", "--dry-run", "--json", *opts]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["dry_run"] is True
    assert [r["windows"] for r in planned["retention"][0]["rollups"]] == [24, 6]
    assert main(["db", "compact", "--model", name, *opts]) == 0
    assert "retention changed 1 model(s)" in capsys.readouterr().out
    assert main(["db", "compact", "--json", *opts]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["retention"][0]["rollups"] == []
    assert main(["db", "compact", "--model", "nope", *opts]) == 2


def test_the_worker_applies_policies_in_the_background(store: Store) -> None:
    log_hours(store, 24, rows=5)
    with store.session() as session:
        retention.set_policy(session, SPEC.name, RetentionIn(daily_after_days=1))
    worker = RetentionWorker(store, interval_seconds=0.05)
    worker.start()
    try:
        assert wait_until(lambda: worker.rounds >= 1, patience(30))
    finally:
        worker.stop()
    with store.session() as session:
        windows = service.list_windows(session, SPEC.name)
    assert [(w.start, w.end, w.n_rows) for w in windows] == [
        (START, START + dt.timedelta(days=1), 120)
    ]
