"""The dashboard's tests run on the demo's store (a model with 30 days of hourly windows, runs,
two registered versions, monitors and alerts), seeded once per test run."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vigil.api.specs import Scope
from vigil.demo import run_demo
from vigil.server import Settings, create_app
from vigil.store.core import Store


@dataclass(frozen=True)
class Demo:
    store_url: str
    artifacts_url: str
    tokens: dict[Scope, str]


def _seed_demo(out: Path) -> Demo:
    store_url, artifacts_url = run_demo(out, rows=3000, seed=7, echo=lambda _: None)
    store = Store.open(store_url, artifacts_url)
    try:
        tokens = {
            scope: store.create_token(
                scope, name=f"dash-{scope.value}", owner=f"{scope.value}-user"
            )
            for scope in Scope
        }
    finally:
        store.close()
    return Demo(store_url, artifacts_url, tokens)


def _demo_json(demo: Demo) -> str:
    tokens = {scope.value: token for scope, token in demo.tokens.items()}
    return json.dumps(
        {"store_url": demo.store_url, "artifacts_url": demo.artifacts_url, "tokens": tokens}
    )


def _demo_from_json(text: str) -> Demo:
    data = json.loads(text)
    tokens = {Scope(scope): token for scope, token in data["tokens"].items()}
    return Demo(data["store_url"], data["artifacts_url"], tokens)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Demo:
    """The demo seeded once per run: under xdist the first worker to get here seeds it (holding a
    lock) in the folder the workers share, and every worker, the first too, works on a private
    copy of it (tests write to it: cache cells, sessions)."""
    if worker_id == "master":
        return _seed_demo(tmp_path_factory.mktemp("dashboard-demo"))
    shared = tmp_path_factory.getbasetemp().parent / "dashboard-demo"
    shared.mkdir(exist_ok=True)
    seeded = shared / "demo.json"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the holder dies
        if not seeded.exists():
            seeded.write_text(_demo_json(_seed_demo(shared / "seed")))
    return copy_demo(_demo_from_json(seeded.read_text()), tmp_path_factory.mktemp("dashboard-demo"))


def copy_demo(demo: Demo, dest: Path) -> Demo:
    """A private copy of the demo's store and artifacts under `dest`, for tests that change what
    they find (move an alias, acknowledge an alert): the shared demo must stay as seeded, since
    xdist runs the other dashboard tests on it in any order."""
    store_file = Path(demo.store_url.removeprefix("sqlite:///"))
    root = store_file.parent
    assert Path(demo.artifacts_url).is_relative_to(root), demo.artifacts_url
    shutil.copytree(root, dest / root.name)
    moved = dest / root.name
    return replace(
        demo,
        store_url=f"sqlite:///{moved / store_file.name}",
        artifacts_url=str(moved / Path(demo.artifacts_url).relative_to(root)),
    )


def make_app(demo: Demo, store: Store) -> TestClient:
    settings = Settings(
        store_url=demo.store_url,
        artifacts_url=demo.artifacts_url,
        dashboard_warm_seconds=0,
        dashboard_page_budget=60,
        monitor_scheduler=False,
    )
    return TestClient(create_app(settings, store=store))


@pytest.fixture
def web(demo: Demo) -> Iterator[TestClient]:
    """A test client of an app on the demo's store, not signed in."""
    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        with make_app(demo, store) as client:
            yield client
    finally:
        store.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Sign `client` in with `token`; returns the session's CSRF value."""
    form = client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={"csrf": csrf_of(form.text), "token": token, "next": "/ui/settings"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/ui/settings").text)


def page_urls(client: TestClient) -> list[str]:
    """Every page of the dashboard on the demo's data (the ids found by following links)."""
    runs = re.findall(r'name="runs" value="([0-9a-f]+)"', client.get("/ui/experiments").text)
    alerts = re.findall(r'href="/ui/alerts/(\d+)"', client.get("/ui/alerts?state=").text)
    assert len(runs) >= 2
    assert alerts
    return [
        "/ui/",
        "/ui/models/churn",
        "/ui/models/churn?granularity=hour&days=3",
        "/ui/models/churn/features/monthly_charges",
        "/ui/models/churn/features/contract",
        "/ui/models/churn/explanations",
        "/ui/experiments",
        f"/ui/experiments/compare?runs={runs[0]}&runs={runs[1]}",
        f"/ui/runs/{runs[0]}",
        "/ui/registry",
        "/ui/registry/churn",
        "/ui/datasets",
        "/ui/datasets/churn-training",
        "/ui/alerts",
        f"/ui/alerts/{alerts[0]}",
        "/ui/monitors",
        "/ui/events",
        "/ui/settings",
    ]
