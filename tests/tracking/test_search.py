from __future__ import annotations

import math

import pytest

import vigil
from vigil.api.tracking import RunStatus
from vigil.client.tracking.run import start_run
from vigil.errors import InvalidInputError, NotFoundError
from vigil.store.core import Store
from vigil.tracking.filter_syntax import BoolOp, Comparison, parse_filter
from vigil.tracking.service import TrackingService

RUNS = [
    # name, model, depth, auc, team, fails
    ("a", "xgb", 3, 0.91, "risk", False),
    ("b", "lgbm", 6, 0.85, "growth", False),
    ("c", "rf", 6, 0.95, "risk", False),
    ("d", "xgb", 9, 0.70, "growth", True),
    ("e", "logreg", 1, math.nan, "risk's", False),
]


@pytest.fixture
def runs(store: Store) -> dict[str, str]:
    ids = {}
    for name, model, depth, auc, team, fails in RUNS:
        run = start_run("churn", name, store=store, capture=False)
        run.log_params({"model": model, "depth": depth})
        run.log_metric("auc", auc)
        run.set_tag("team", team)
        run.end(RunStatus.FAILED if fails else RunStatus.FINISHED)
        ids[name] = run.id
    other = start_run("other", "z", store=store, capture=False)
    other.log_metric("auc", 0.99)
    other.end()
    return ids


def _names(store: Store, filter: str, **kwargs: object) -> list[str]:
    page = vigil.search_runs("churn", filter, store=store, **kwargs)  # type: ignore[arg-type]
    return [run.info.name for run in page.runs]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ("metrics.auc > 0.8 and params.model in ('xgb', 'lgbm')", {"a", "b"}),
        ("metrics.auc >= 0.85 AND metrics.auc <= 0.91", {"a", "b"}),
        ("params.model = 'xgb' or params.depth = '6'", {"a", "b", "c", "d"}),
        ("(params.model = 'xgb' or params.depth = '6') and tags.team = 'risk'", {"a", "c"}),
        ("params.model = 'xgb' or params.depth = '6' and tags.team = 'risk'", {"a", "c", "d"}),
        ("params.model != 'xgb'", {"b", "c", "e"}),
        ("params.model not in ('xgb', 'rf')", {"b", "e"}),
        ("params.model LIKE 'x%'", {"a", "d"}),
        ("tags.team ILIKE 'RISK%'", {"a", "c", "e"}),
        ("tags.team = 'risk''s'", {"e"}),
        ("status = 'FAILED'", {"d"}),
        ("attributes.status != 'failed' and metrics.auc < 0.9", {"b"}),
        ("run_name in ('a', 'e')", {"a", "e"}),
        ("metrics.missing > 0", set()),
        ("", {"a", "b", "c", "d", "e"}),
        ('params.`model` = "rf"', {"c"}),
    ],
)
def test_filters(store: Store, runs: dict[str, str], filter: str, expected: set[str]) -> None:
    assert set(_names(store, filter)) == expected


def test_order_by_and_pages(store: Store, runs: dict[str, str]) -> None:
    assert _names(store, "", order_by=["metrics.auc DESC"]) == ["c", "a", "b", "d", "e"]
    assert _names(store, "", order_by=["params.depth ASC", "metrics.auc"]) == [
        "e",
        "a",
        "b",
        "c",
        "d",
    ]
    first = vigil.search_runs("churn", order_by=["run_name"], max_results=2, store=store)
    assert [r.info.name for r in first.runs] == ["a", "b"]
    second = vigil.search_runs(
        "churn",
        order_by=["run_name"],
        max_results=2,
        page_token=first.next_page_token,
        store=store,
    )
    assert [r.info.name for r in second.runs] == ["c", "d"]
    third = vigil.search_runs(
        "churn",
        order_by=["run_name"],
        max_results=2,
        page_token=second.next_page_token,
        store=store,
    )
    assert [r.info.name for r in third.runs] == ["e"]
    assert third.next_page_token is None


def test_all_experiments_and_to_pandas(store: Store, runs: dict[str, str]) -> None:
    page = vigil.search_runs(None, "metrics.auc > 0.9", store=store)
    assert {r.info.name for r in page.runs} == {"a", "c", "z"}
    frame = vigil.search_runs("churn", "params.model = 'rf'", store=store).to_pandas()
    assert list(frame["run_name"]) == ["c"]
    assert frame.loc[0, "metrics.auc"] == 0.95
    assert frame.loc[0, "params.depth"] == "6"
    assert frame.loc[0, "status"] == "finished"


def test_an_experiment_is_matched_by_name_or_said_to_be_missing(
    store: Store, runs: dict[str, str]
) -> None:
    service = TrackingService(store)
    assert {r.info.name for r in service.search_runs(["churn"], "metrics.auc > 0.9").runs} == {
        "a",
        "c",
    }
    empty = service.create_experiment("empty")
    assert service.search_runs(["empty"]).runs == []
    assert service.search_runs([empty.id]).runs == []
    assert service.search_runs(["churn"], "metrics.auc > 5").runs == []
    for missing in (["nope"], ["churn", "nope"], [999]):
        with pytest.raises(NotFoundError, match="no experiment"):
            service.search_runs(missing)


def test_compare_runs(store: Store, runs: dict[str, str]) -> None:
    comparison = vigil.compare_runs([runs["a"], runs["b"], runs["d"]], store=store)
    assert comparison.metrics["auc"] == {runs["a"]: 0.91, runs["b"]: 0.85, runs["d"]: 0.70}
    assert comparison.param_differences == ["depth", "model"]
    same = vigil.compare_runs([runs["b"], runs["c"]], store=store)
    assert same.param_differences == ["model"]
    frame = comparison.to_pandas()
    assert frame.loc["metrics.auc", runs["b"]] == 0.85
    assert frame.loc["params.model", runs["d"]] == "xgb"
    with pytest.raises(NotFoundError):
        vigil.compare_runs(["nope"], store=store)


def test_compare_runs_takes_the_runs_a_search_returns(store: Store, runs: dict[str, str]) -> None:
    page = vigil.search_runs("churn", "params.model = 'xgb'", store=store)
    by_page = vigil.compare_runs(page, store=store)
    by_runs = vigil.compare_runs(page.runs, store=store)
    by_infos = vigil.compare_runs([r.info for r in page.runs], store=store)
    ids = sorted(r.info.id for r in page.runs)
    assert len(ids) >= 2
    for comparison in (by_page, by_runs, by_infos):
        assert sorted(comparison.run_ids) == ids
    with pytest.raises(InvalidInputError, match="got int"):
        vigil.compare_runs([7], store=store)  # type: ignore[list-item]


def test_parser_precedence() -> None:
    node = parse_filter("metrics.a > 1 or metrics.b < 2 and params.c = 'x'")
    assert isinstance(node, BoolOp)
    assert node.op == "or"
    assert node.items[0] == Comparison("metrics", "a", ">", 1.0)
    assert isinstance(node.items[1], BoolOp)
    assert node.items[1].op == "and"
    assert parse_filter("metrics.`val loss` <= -1e-3") == Comparison(
        "metrics", "val loss", "<=", -0.001
    )


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ("metrics.auc >", "expected a value"),
        ("metrics.auc > 'high'", "compared with numbers"),
        ("params.depth = 6", "quote it"),
        ("foo.bar = 1", "unknown entity 'foo'"),
        ("colour = 'red'", "unknown attribute 'colour'"),
        ("(metrics.auc > 1", r"expected \)"),
        ("metrics.auc > 1 metrics.b < 2", "unexpected"),
        ("metrics.auc ~ 1", "unexpected"),
        ("metrics.auc like 'x%'", "LIKE compares strings"),
    ],
)
def test_bad_filters(store: Store, filter: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        vigil.search_runs(None, filter, store=store)


def test_bad_page_token(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="page_token"):
        vigil.search_runs(None, page_token="garbage!", store=store)
