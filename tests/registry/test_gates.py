from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vigil
from vigil.analysis.validation import MinInRange, Suite
from vigil.errors import InvalidInputError, PromotionRefusedError
from vigil.registry import Gates, Registry
from vigil.store.core import Store


@pytest.fixture
def registry(store: Store, tmp_path: Path) -> Registry:
    reg = Registry(store, actor="carol")
    rng = np.random.default_rng(0)
    good = vigil.profile({"age": rng.uniform(18, 90, 500)})
    bad = vigil.profile({"age": np.r_[rng.uniform(18, 90, 499), -5.0]})
    path = tmp_path / "model.txt"
    path.write_text("m")
    reg.register("churn", path, metrics={"auc": 0.90}, profile=good)
    reg.register("churn", path, metrics={"auc": 0.885}, profile=good)
    reg.register("churn", path, metrics={"auc": 0.95}, profile=bad)
    reg.register("churn", path, metrics={"auc": 0.80})
    reg.register("churn", path)
    return reg


SUITE = Suite([MinInRange(column="age", min=0)])


def test_a_suite_gate_refuses_a_version_whose_training_data_fails(registry: Registry) -> None:
    registry.set_alias("churn", "production", 1, gates=Gates(suite=SUITE))
    with pytest.raises(PromotionRefusedError, match="validation check failed") as info:
        registry.set_alias("churn", "production", 3, gates=Gates(suite=SUITE))
    assert info.value.status_code == 409
    assert info.value.details["suite"]["n_failed"] == 1
    assert registry.get_alias("churn", "production").version == 1
    with pytest.raises(PromotionRefusedError, match="no training dataset profile"):
        registry.set_alias("churn", "production", 5, gates=Gates(suite=SUITE.to_yaml()))


def test_a_suite_gate_reads_a_yaml_file(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text(SUITE.to_yaml())
    registry.set_alias("churn", "staging", 2, gates=Gates(suite=str(path)))
    with pytest.raises(PromotionRefusedError):
        registry.set_alias("churn", "staging", 3, gates=Gates(suite=path))


def test_a_metric_gate_allows_a_margin_and_names_the_numbers(registry: Registry) -> None:
    strict = Gates(metric="auc", margin=0.01)
    registry.set_alias("churn", "production", 1, gates=strict)  # no holder yet: nothing to beat
    with pytest.raises(PromotionRefusedError) as info:
        registry.set_alias("churn", "production", 2, gates=strict)
    message = info.value.message
    assert "auc of version 2 is 0.885, worse than 0.9 of the current holder, version 1" in message
    assert "more than the allowed margin 0.01" in message
    details = info.value.details
    assert (details["candidate"], details["holder"], details["holder_version"]) == (0.885, 0.9, 1)
    assert details["worse_by"] == pytest.approx(0.015)
    registry.set_alias("churn", "production", 2, gates=Gates(metric="auc", margin=0.02))
    registry.set_alias("churn", "production", 3, gates=strict)  # better
    with pytest.raises(PromotionRefusedError, match="has no metric 'auc'"):
        registry.set_alias("churn", "production", 5, gates=strict)
    # Lower is better: 0.80 against 0.95 is an improvement.
    registry.set_alias("churn", "production", 4, gates=Gates(metric="auc", mode="min"))
    assert registry.get_alias("churn", "production").version == 4


def test_refusals_are_recorded_in_the_event_log(registry: Registry) -> None:
    registry.set_alias("churn", "production", 3)
    with pytest.raises(PromotionRefusedError):
        registry.set_alias("churn", "production", 4, gates=Gates(metric="auc"))
    last = registry.events("churn", alias="production")[-1]
    assert (last.kind, last.from_version, last.to_version, last.actor) == (
        "alias_refused",
        3,
        4,
        "carol",
    )
    assert last.details["holder"] == 0.95
    assert last.details["candidate"] == 0.80
    assert "worse than 0.95" in last.details["reasons"][0]
    # A refusal is not a move: the alias still held version 3 after it.
    assert registry.alias_at("churn", "production", last.at) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "best"}, "mode"),
        ({"margin": -0.1}, "margin"),
        ({"margin": float("nan")}, "margin"),
        ({"metric": ""}, "metric"),
    ],
)
def test_gate_settings_are_validated(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Gates(**kwargs)  # type: ignore[arg-type]
