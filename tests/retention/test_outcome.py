"""A retention outcome is rendered from one list of counts: the worker's log line and the table of
`vigil db compact` carry the same numbers, in the same order, under the same names."""

from __future__ import annotations

import datetime as dt
import doctest
import re

from vigil.ingestion import retention_outcome
from vigil.ingestion.retention import Outcome
from vigil.ingestion.retention_outcome import COUNTS, outcome_table
from vigil.ingestion.rollup import Rollup
from vigil.store.predictions import Kind

DAY = dt.datetime(2026, 10, 30, tzinfo=dt.UTC)


def _outcome() -> Outcome:
    rollups = [
        Rollup("v1", "", "day", DAY, DAY + dt.timedelta(days=1), 24),
        Rollup("v1", "", "day", DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2), 20),
    ]
    row_days: list[tuple[Kind, dt.date, int]] = [("predictions", DAY.date(), 3)]
    return Outcome(
        "fraud", row_days, rollups, windows_replaced=44, alerts=5, results=6, events=7, cells=8
    )


def test_the_line_and_the_table_carry_the_same_counts() -> None:
    outcome = _outcome()
    header, rows = outcome_table([outcome, Outcome("quiet")])
    assert header == [
        "model",
        "row days deleted",
        "periods rolled up",
        "windows merged",
        "alerts",
        "results",
        "events",
        "cells",
    ]
    assert rows == [["fraud", 1, 2, 44, 5, 6, 7, 8], ["quiet", 0, 0, 0, 0, 0, 0, 0]]
    line = outcome.summary()
    assert line == (
        "fraud: 1 row day(s) deleted, 2 period(s) rolled up, 44 window(s) merged, 5 alert(s), "
        "6 monitor result(s), 7 event(s) and 8 dashboard cell(s) deleted"
    )
    assert [int(n) for n in re.findall(r"\b(\d+) ", line)] == rows[0][1:]
    assert len(COUNTS) == len(header) - 1


def test_changed_is_any_deletion_or_rollup() -> None:
    assert _outcome().changed
    assert not Outcome("quiet").changed
    assert not Outcome("quiet", windows_replaced=3).changed  # merged windows go with a rollup
    assert Outcome("m", row_days=[("labels", DAY.date(), 1)]).changed
    assert Outcome("m", alerts=1).changed
    assert Outcome("m", results=1).changed
    assert Outcome("m", events=1).changed
    assert Outcome("m", cells=1).changed


def test_the_json_keeps_its_keys() -> None:
    shown = _outcome().to_dict()
    assert shown["row_days"] == [{"kind": "predictions", "day": "2026-10-30", "files": 3}]
    assert [r["windows"] for r in shown["rollups"]] == [24, 20]
    assert shown["rollups"][0]["start"] == DAY.isoformat()
    picked = ("windows_replaced", "alerts", "monitor_results", "events", "dashboard_cells")
    assert [shown[k] for k in picked] == [44, 5, 6, 7, 8]


def test_the_docstring_example_holds() -> None:
    assert doctest.testmod(retention_outcome).failed == 0
