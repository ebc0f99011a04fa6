"""The performance endpoints through a real server (uvicorn on loopback) and the client, and the
same calls in the client's local mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn import metrics as sk

from tests.e2e.live import LiveServer, make_token
from tests.performance.conftest import DAY, T0, binary_day, create_binary, log_day
from vigil.api.specs import Scope
from vigil.client import Client
from vigil.errors import InvalidInputError

pytestmark = pytest.mark.slow


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(
        f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"), tmp_path / "server.log"
    )
    server.start(timeout=120)  # a loaded 2-core machine can take long to import the app
    yield server
    server.stop()


def _seed(client: Client) -> list[dict[str, object]]:
    create_binary(client)
    rng = np.random.default_rng(12)
    days = [
        binary_day(rng, d, 600 if d < 3 else 1500, shift=0.0 if d < 3 else 0.8) for d in range(5)
    ]
    for d, data in enumerate(days):
        log_day(client, data)
        if d < 4:
            client.log_labels("churn", data["id"], data["label"])
    return days


def _check(client: Client, days: list[dict[str, object]]) -> None:
    realized = client.performance.realized("churn", window="day")
    assert [w["coverage"] for w in realized["windows"]] == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert realized["windows"][0]["start"] == "2026-01-05T00:00:00Z"
    first = realized["windows"][0]["metrics"]
    assert first["roc_auc"] == pytest.approx(
        sk.roc_auc_score(days[0]["label"], days[0]["score"]), abs=1e-12
    )
    fr = client.performance.realized("churn", segment="country=FR", end=T0 + DAY)
    mask = days[0]["country"] == "FR"
    assert fr["windows"][0]["n_predictions"] == int(mask.sum())
    estimated = client.performance.estimated(
        "churn", reference_start=T0, reference_end=T0 + 3 * DAY, start=T0 + 3 * DAY
    )
    assert estimated["reference"]["n_labelled"] == 1800
    w3, w4 = estimated["windows"]
    assert w3["estimated"]["accuracy"] == pytest.approx(w3["realized"]["accuracy"], abs=0.03)
    assert w4["realized"] is None
    assert w4["estimated"]["roc_auc"] == pytest.approx(
        sk.roc_auc_score(days[4]["label"], days[4]["score"]), abs=0.03
    )
    fairness = client.performance.fairness("churn", "country", end=T0 + DAY)
    rates = {c: float(np.mean(days[0]["pred"][days[0]["country"] == c])) for c in ("DE", "FR")}
    assert fairness["windows"][0]["demographic_parity_difference"] == pytest.approx(
        abs(rates["DE"] - rates["FR"])
    )
    segments = client.performance.segments(
        "churn",
        baseline_start=T0,
        baseline_end=T0 + 3 * DAY,
        start=T0 + 3 * DAY,
        end=T0 + 4 * DAY,
        metric="recall",
        cls="0",
        columns=["country"],
    )
    assert {s["value"] for s in segments["segments"]} == {"DE", "FR"}
    assert segments["class"] == "0"
    recall_0 = sk.recall_score(days[3]["label"], days[3]["pred"], pos_label=0)
    assert segments["current"]["value"] == pytest.approx(recall_0, abs=1e-12)
    with pytest.raises(InvalidInputError, match="not a segment column"):
        client.performance.fairness("churn", "x1")
    with pytest.raises(InvalidInputError, match="unknown option"):
        client.performance.realized("churn", colour="red")


def test_endpoints_through_the_server_and_the_client(live: LiveServer, tmp_path: Path) -> None:
    token = make_token(live.store_url)
    with Client(live.url, token=token, spool_dir=None) as client:
        days = _seed(client)
        _check(client, days)
    headers = {"Authorization": f"Bearer {token}"}
    segments = httpx.get(
        f"{live.url}/api/v1/models/churn/performance/segments",
        params={
            "baseline_start": T0.isoformat(),
            "baseline_end": (T0 + 3 * DAY).isoformat(),
            "start": (T0 + 3 * DAY).isoformat(),
            "end": (T0 + 5 * DAY).isoformat(),
            "metric": "f1",
        },
        headers=headers,
    )
    assert segments.status_code == 200, segments.text
    body = segments.json()
    assert {s["value"] for s in body["segments"]} == {"DE", "FR"}
    assert body["metric"] == "f1"
    bad = httpx.get(
        f"{live.url}/api/v1/models/churn/performance",
        params={"window": "fortnight"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "window 'fortnight' is not one of" in bad.json()["message"]
    monthly = httpx.get(
        f"{live.url}/api/v1/models/churn/performance", params={"window": "month"}, headers=headers
    )
    assert monthly.status_code == 200, monthly.text
    assert monthly.json()["window"] == "month"
    assert {w["start"][8:10] for w in monthly.json()["windows"]} == {
        "01"
    }  # months start on the 1st
    missing = httpx.get(f"{live.url}/api/v1/models/nope/performance", headers=headers)
    assert missing.status_code == 404
    reader = make_token(live.store_url, Scope.READ)
    ok = httpx.get(
        f"{live.url}/api/v1/models/churn/fairness",
        params={"attribute": "country"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert ok.status_code == 200
    assert (
        httpx.get(f"{live.url}/api/v1/models/churn/fairness?attribute=country").status_code == 401
    )


def test_the_same_calls_in_local_mode(tmp_path: Path) -> None:
    with Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")) as client:
        days = _seed(client)
        _check(client, days)
