"""The outcome of running a suite: every check's result, and the verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vigil.analysis.validation.base import CheckResult, Severity, counts_against
from vigil.report.notebook import NotebookResult, Tone


@dataclass(frozen=True, slots=True, repr=False)
class ValidationResult(NotebookResult):
    """Every check's result, in suite order.

    `passed` is false when a failed check has severity at or above `fail_on` ("warning" by
    default: failed warnings and errors fail the result, failed info checks are only reported).
    `failures` lists exactly those checks; `failed` lists every failed check whatever its severity.
    """

    results: tuple[CheckResult, ...]
    fail_on: Severity = "warning"
    n_rows: int = 0

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.failed if counts_against(r.severity, self.fail_on))

    @property
    def passed(self) -> bool:
        return not self.failures

    def counts(self) -> dict[str, int]:
        """Failed checks per severity."""
        counted = {"error": 0, "warning": 0, "info": 0}
        for r in self.failed:
            counted[r.severity] += 1
        return counted

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "fail_on": self.fail_on,
            "n_rows": self.n_rows,
            "n_checks": len(self.results),
            "n_failed": len(self.failed),
            "failed_by_severity": self.counts(),
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def summary(self, *, show_passed: bool = False) -> str:
        """A text report: the verdict, then each failed check (and passed ones if asked)."""
        failed = self.failed
        if not failed:
            head = f"validation passed: all {len(self.results)} checks passed"
        else:
            by = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
            verdict = "FAILED" if not self.passed else "passed"
            head = (
                f"validation {verdict}: {len(failed)} of {len(self.results)} checks failed "
                f"({by}); the result fails on {self.fail_on} and above"
            )
        lines = [head + f" [{self.n_rows:,} rows]"]
        # Checks on a column that is gone all fail for that one reason: say it once.
        gone = {r.column for r in failed if r.type == "column_present"}
        knock_on = [
            r
            for r in failed
            if r.column in gone and r.type != "column_present" and r.observed is None
        ]
        for r in self.results if show_passed else failed:
            if r in knock_on:
                continue
            status = "ok  " if r.passed else "FAIL"
            message = r.message
            if r.type == "column_present" and r.column in gone:
                n = sum(1 for k in knock_on if k.column == r.column)
                if n:
                    message += f" ({n} other check{'s' if n > 1 else ''} on it could not run)"
            lines.append(f"  {status} {r.severity:<7} {r.type:<29} {message}")
        if failed and not show_passed:
            lines.append(f"  ({len(self.results) - len(failed)} other checks passed)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # In a notebook: failed checks first, a frame with one row per check.
    _flag = "failed"

    def _columns(self) -> tuple[str, ...]:
        return (
            "check",
            "column",
            "severity",
            "passed",
            "failed",
            "expected",
            "observed",
            "message",
        )

    def _rows(self) -> list[dict[str, Any]]:
        ordered = sorted(self.results, key=lambda r: r.passed)
        return [
            {
                "check": r.type,
                "column": r.column,
                "severity": r.severity,
                "passed": r.passed,
                "failed": not r.passed,
                "expected": r.expected,
                "observed": r.observed,
                "message": r.message,
            }
            for r in ordered
        ]

    def _headline(self) -> tuple[str, Tone]:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"{verdict}: {len(self.failed)} of {len(self.results)} checks failed on "
            f"{self.n_rows:,} rows",
            "good" if self.passed else "bad",
        )
