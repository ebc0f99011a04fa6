"""Every registered check honours the same contract; a new check is picked up by itself."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import vigil
from vigil.analysis.validation import CHECKS, Check, CheckResult, Suite, check_from_dict
from vigil.analysis.validation.base import SEVERITIES
from vigil.profile import DatasetProfile
from vigil.schema import ColumnKind

DOCS = Path(__file__).parents[3] / "docs" / "validation.md"

COLUMN_OF_KIND = {
    ColumnKind.NUMERIC: "num",
    ColumnKind.CATEGORICAL: "cat",
    ColumnKind.TEXT: "txt",
    ColumnKind.BOOLEAN: "flag",
    ColumnKind.DATETIME: "when",
    ColumnKind.EMBEDDING: "emb",
    ColumnKind.UNKNOWN: "nothing",
}


def _small_profile(patterns: dict[str, list[str]]) -> DatasetProfile:
    rng = np.random.default_rng(0)
    n = 40
    text = [f"free text note number {i} written by a person about an account" for i in range(n)]
    table = pa.table(
        {
            "num": pa.array(rng.normal(0, 1, n)),
            "cat": pa.array(rng.choice(["a", "b", "c"], n)),
            "txt": pa.array(text),
            "flag": pa.array(rng.random(n) < 0.5),
            "when": pa.array(np.arange(n).astype("datetime64[D]").astype("datetime64[us]")),
            "emb": pa.array(rng.normal(0, 1, (n, 3)).tolist(), type=pa.list_(pa.float64(), 3)),
            "nothing": pa.nulls(n),
        }
    )
    usable = {c: p for c, p in patterns.items() if c in table.column_names}
    prof = vigil.profile(table, patterns=usable)
    assert {k: prof.columns[v].kind for k, v in COLUMN_OF_KIND.items()} == {
        k: k for k in COLUMN_OF_KIND
    }
    return prof


def _accepted(cls: type[Check]) -> list[ColumnKind]:
    kinds = cls.kinds if cls.kinds is not None else frozenset(ColumnKind)
    return [k for k in COLUMN_OF_KIND if k in kinds and k is not ColumnKind.UNKNOWN]


REGISTERED = sorted(CHECKS.items())


def test_registry_names_are_the_types() -> None:
    assert len(CHECKS) >= 12
    for name, cls in CHECKS.items():
        assert cls.type == name
        assert re.fullmatch(r"[a-z][a-z_]+", name)


@pytest.mark.parametrize(("name", "cls"), REGISTERED)
def test_each_check_is_documented(name: str, cls: type[Check]) -> None:
    doc = cls.__dict__.get("__doc__")
    assert doc, f"{name} has no docstring of its own"
    assert len(doc.strip()) > 20
    assert cls.statistic
    docs = DOCS.read_text(encoding="utf-8")
    assert f"`{name}`" in docs, f"{name} is not described in docs/validation.md"
    for field in cls.model_fields:
        assert f"`{field}`" in docs, f"parameter {field!r} of {name} is not in the docs"


@pytest.mark.parametrize(("name", "cls"), REGISTERED)
def test_each_check_round_trips_and_runs(name: str, cls: type[Check]) -> None:
    kinds = _accepted(cls)
    assert kinds, f"{name} accepts no profiled kind"
    for kind in kinds:
        check = cls.example(COLUMN_OF_KIND[kind]).model_copy(update={"severity": "warning"})
        assert isinstance(check, cls)
        # YAML and plain data, alone and in a suite
        assert check_from_dict(check.to_dict()) == check
        assert Suite.from_yaml(Suite([check]).to_yaml()).checks == (check,)
        prof = _small_profile(Suite([check]).patterns())
        result = check.run(prof)
        assert isinstance(result, CheckResult)
        assert result.type == name
        assert result.severity == "warning"
        assert result.severity in SEVERITIES
        assert result.column == check.column
        assert isinstance(result.expected, str)
        assert result.expected
        assert result.observed is not None, result.message
        assert result.message.startswith(f"{check.column}: ")
        assert set(result.to_dict()) == {
            "type",
            "column",
            "severity",
            "passed",
            "expected",
            "observed",
            "message",
        }


@pytest.mark.parametrize(("name", "cls"), REGISTERED)
def test_each_check_fails_cleanly_when_it_cannot_read_the_column(
    name: str, cls: type[Check]
) -> None:
    prof = _small_profile({})
    check = cls.example(COLUMN_OF_KIND[_accepted(cls)[0]])
    absent = check.model_copy(update={"column": "no_such_column"}).run(prof)
    assert not absent.passed
    assert "not in the data" in absent.message or absent.observed == "absent"
    accepted = set(_accepted(cls))
    for kind, column in COLUMN_OF_KIND.items():
        if kind in accepted:
            continue
        other = check.model_copy(update={"column": column}).run(prof)
        if name in ("column_present", "missing_share_at_most") or (
            name == "kind_is" and kind is not ColumnKind.UNKNOWN
        ):
            continue  # these read every kind
        assert not other.passed, (name, kind)
        assert other.observed is None or name == "kind_is"
        assert other.message


@pytest.mark.parametrize(("name", "cls"), REGISTERED)
def test_each_check_is_frozen_and_rejects_unknown_parameters(name: str, cls: type[Check]) -> None:
    check = cls.example("x")
    with pytest.raises(Exception, match="frozen"):
        check.column = "y"  # type: ignore[misc]
    with pytest.raises(vigil.VigilError, match="unknown parameter 'bogus'"):
        check_from_dict({**check.to_dict(), "bogus": 1})


def test_the_yaml_example_in_the_docs_loads() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    suite = Suite.from_yaml(block)
    assert suite.name == "customers"
    assert {c.type for c in suite} <= set(CHECKS)
    assert len(suite) == block.count("type: ")


@pytest.mark.parametrize("check", sorted(CHECKS.values(), key=lambda c: c.__name__))
def test_every_check_is_importable_from_vigil(check: type[Check]) -> None:
    assert getattr(vigil, check.__name__) is check
    assert check.__name__ in vigil.__all__
