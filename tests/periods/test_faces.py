"""Periods through every face: the API (month, quarter, year, a custom period, KPIs per
month), and `vigil performance` on the store and on a server (tables, JSON, one-line errors)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sklearn import metrics as sk

from tests.periods.conftest import Traffic
from tests.server.conftest import auth, make_tokens
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.config import Settings
from vigil.store.core import Store

UTC = dt.UTC
Q1 = (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 4, 1, tzinfo=UTC))
YEAR = (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC))


def _iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from vigil.server import create_app

    read = auth(make_tokens(store)[Scope.READ])
    app = create_app(
        Settings(
            store_url="sqlite://",
            artifacts_url="unused",
            monitor_scheduler=False,
            dashboard_warm_seconds=0,
        ),
        store=store,
    )
    with TestClient(app) as client:
        yield client, read


def test_api_reports_per_quarter_year_and_period(
    api: tuple[TestClient, dict[str, str]], logged: tuple[Path, Traffic]
) -> None:
    client, read = api
    _, data = logged
    for window in ("quarter", "year", "2024-01-01/2024-04-01"):
        answer = client.get(
            "/api/v1/models/churn/performance",
            params={
                "window": window,
                "start": "2024-01-01T00:00:00Z",
                "end": "2025-01-01T00:00:00Z",
            },
            headers=read,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["window"] == window
        for w in body["windows"]:
            # Rows of the window within the asked [start, end).
            rows = data.rows(max(_iso(w["start"]), YEAR[0]), min(_iso(w["end"]), YEAR[1]))
            assert w["n_predictions"] == len(rows)
            assert w["metrics"]["roc_auc"] == pytest.approx(
                sk.roc_auc_score(data.label[rows], data.score[rows]), abs=1e-12
            )
    quarters = client.get(
        "/api/v1/models/churn/fairness",
        params={"attribute": "age", "window": "quarter", "start": "2024-01-01T00:00:00Z"},
        headers=read,
    ).json()
    assert [_iso(w["start"]).month for w in quarters["windows"]][:4] == [1, 4, 7, 10]
    bad = client.get(
        "/api/v1/models/churn/performance", params={"window": "2024-02-30/2024-03-01"}, headers=read
    )
    assert bad.status_code == 422
    assert "2024-02-30" in bad.json()["message"]


def test_api_kpi_series_per_month(api: tuple[TestClient, dict[str, str]], store: Store) -> None:
    client, read = api
    with store.session() as session:
        from vigil.api.specs import KpiIn
        from vigil.ingestion.service import log_kpi

        for day, value in (
            (dt.datetime(2024, 1, 31, 23, 59, tzinfo=UTC), 1.0),
            (dt.datetime(2024, 2, 1, tzinfo=UTC), 2.0),
            (dt.datetime(2024, 2, 29, 12, tzinfo=UTC), 4.0),
        ):
            log_kpi(
                session,
                KpiIn(name="orders", value=value, timestamp=day, model="churn", version="v1"),
                actor="test",
            )
        session.commit()
    body = client.get(
        "/api/v1/kpis/series",
        params={"name": "orders", "model": "churn", "window": "month"},
        headers=read,
    ).json()
    assert body["window"] == "month"
    assert [(p["start"][:10], p["count"], p["sum"]) for p in body["points"]] == [
        ("2024-01-01", 1, 1.0),
        ("2024-02-01", 2, 6.0),
    ]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_realized_per_month_and_period_on_the_store(
    logged: tuple[Path, Traffic], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, data = logged
    store = [
        "--store",
        f"sqlite:///{folder / 'vigil.db'}",
        "--artifacts",
        str(folder / "artifacts"),
    ]
    code, out, _ = _run(["performance", "realized", "churn", "--window", "month", *store], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["WINDOW", "PREDICTIONS", "LABELLED", "COVERAGE", "COMPLETE"]
    february = next(line for line in lines if line.startswith("2024-02 "))
    rows = data.rows(dt.datetime(2024, 2, 1, tzinfo=UTC), dt.datetime(2024, 3, 1, tzinfo=UTC))
    assert february.split()[1] == str(len(rows))
    # A period as the window, no --start/--end: that period alone, in JSON.
    code, out, _ = _run(
        ["performance", "realized", "churn", "--window", "2024-01-01/2024-04-01", "--json", *store],
        capsys,
    )
    assert code == 0
    (only,) = json.loads(out)["windows"]
    rows = data.rows(*Q1)
    assert (_iso(only["start"]), _iso(only["end"])) == Q1
    assert only["metrics"]["accuracy"] == pytest.approx(
        sk.accuracy_score(data.label[rows], data.pred[rows]), abs=1e-12
    )
    # Fairness per year, as a table of groups.
    code, out, _ = _run(
        ["performance", "fairness", "churn", "--attribute", "age", "--window", "year", *store],
        capsys,
    )
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()].count("2024") == 3  # 3 age groups


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "fortnight"], "'fortnight'"),
        (["--start", "2024-13-01"], "--start '2024-13-01'"),
        (["--start", "2024-03-01", "--end", "2024-02-01"], "must be after"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    logged: tuple[Path, Traffic], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    folder, _ = logged
    store = [
        "--store",
        f"sqlite:///{folder / 'vigil.db'}",
        "--artifacts",
        str(folder / "artifacts"),
    ]
    code, out, err = _run(["performance", "realized", "churn", *args, *store], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert message in err


def test_cli_on_a_server_answers_as_on_the_store(
    api: tuple[TestClient, dict[str, str]],
    logged: tuple[Path, Traffic],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--url` goes through the api client (here to the app in this process)."""
    import vigil.api.client

    folder, _ = logged
    http, read = api
    real = vigil.api.client.VigilApi

    def in_process(url: str, token: str | None, **kwargs: object) -> vigil.api.client.VigilApi:
        assert url == "http://vigil.test"
        http.headers.update({"Authorization": f"Bearer {token}"})
        return real(str(http.base_url), token, http=http)

    monkeypatch.setattr(vigil.api.client, "VigilApi", in_process)
    token = read["Authorization"].removeprefix("Bearer ")
    remote = ["--url", "http://vigil.test", "--token", token]
    on_store = [
        "--store",
        f"sqlite:///{folder / 'vigil.db'}",
        "--artifacts",
        str(folder / "artifacts"),
    ]
    for report in (["realized", "churn"], ["fairness", "churn", "--attribute", "age"]):
        args = ["performance", *report, "--window", "quarter", "--json"]
        local = _run([*args, *on_store], capsys)
        server = _run([*args, *remote], capsys)
        assert local[0] == server[0] == 0
        assert json.loads(local[1]) == json.loads(server[1])
    missing = _run(["performance", "realized", "nope", *remote], capsys)
    assert missing[0] == 2
    assert "no monitored model named 'nope'" in missing[2]
