"""What applying one model's retention policy did (or, in a dry run, would do), and its renderings:
one line for the retention worker's log, a table row for `vigil db compact`, a dict for its JSON.
The counts are listed once (`COUNTS`), so the line and the table say the same things."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.ingestion.rollup import Rollup
from vigil.store.predictions import Kind


@dataclass
class Outcome:
    """What applying one model's policy did (or, in a dry run, would do)."""

    model: str
    row_days: list[tuple[Kind, dt.date, int]] = field(default_factory=list)
    """(kind, day, files) of the raw rows deleted."""
    rollups: list[Rollup] = field(default_factory=list)
    """The days and months rolled up (in a dry run: to roll up)."""
    windows_replaced: int = 0
    """Stored windows merged into rolled ones (in a dry run: as planned)."""
    alerts: int = 0
    """Resolved alerts deleted, with their history."""
    results: int = 0
    """Monitor results deleted (`delete_results`)."""
    events: int = 0
    """Events deleted, with their deliveries."""
    cells: int = 0
    """Dashboard cells deleted: measured on windows since rolled up into coarser ones."""

    def counts(self) -> list[tuple[Count, int]]:
        """Each of `COUNTS` with its value for this outcome."""
        return [(count, count.of(self)) for count in COUNTS]

    def summary(self) -> str:
        """One line saying what was done (the retention worker's log).

        >>> Outcome("churn", alerts=2, cells=48).summary().split(", ")[-3:]
        ['2 alert(s)', '0 monitor result(s)', '0 event(s) and 48 dashboard cell(s) deleted']
        """
        parts = [f"{value} {count.phrase}" for count, value in self.counts()]
        return f"{self.model}: {', '.join(parts[:-1])} and {parts[-1]} deleted"

    @property
    def changed(self) -> bool:
        return any(value for count, value in self.counts() if count.changes)

    def to_dict(self) -> dict[str, Any]:
        """The outcome as `vigil db compact --json` prints it."""
        return {
            "model": self.model,
            "row_days": [
                {"kind": kind, "day": day.isoformat(), "files": files}
                for kind, day, files in self.row_days
            ],
            "rollups": [
                {
                    "version": r.version,
                    "segment": r.segment,
                    "period": r.period,
                    "start": r.start.isoformat(),
                    "end": r.end.isoformat(),
                    "windows": r.windows,
                }
                for r in self.rollups
            ],
            "windows_replaced": self.windows_replaced,
            "alerts": self.alerts,
            "monitor_results": self.results,
            "events": self.events,
            "dashboard_cells": self.cells,
        }


@dataclass(frozen=True)
class Count:
    """One number an outcome reports: its table column, its words in the summary line, and how
    it is read from an outcome."""

    header: str
    phrase: str
    """After the number in the summary line (its last count is followed by "deleted")."""
    of: Callable[[Outcome], int]
    changes: bool = True
    """Whether a non-zero value means the store changed (windows merged go with a rollup)."""


COUNTS: tuple[Count, ...] = (
    Count("row days deleted", "row day(s) deleted", lambda o: len(o.row_days)),
    Count("periods rolled up", "period(s) rolled up", lambda o: len(o.rollups)),
    Count("windows merged", "window(s) merged", lambda o: o.windows_replaced, changes=False),
    Count("alerts", "alert(s)", lambda o: o.alerts),
    Count("results", "monitor result(s)", lambda o: o.results),
    Count("events", "event(s)", lambda o: o.events),
    Count("cells", "dashboard cell(s)", lambda o: o.cells),
)


def outcome_table(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[Any]]]:
    """The outcomes as a table: its header and one row per model (`vigil db compact`)."""
    header = ["model", *(count.header for count in COUNTS)]
    return header, [[o.model, *(value for _, value in o.counts())] for o in outcomes]
