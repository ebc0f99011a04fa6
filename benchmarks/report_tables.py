"""Benchmark results on disk and as markdown: a results file, a table, numbers formatted for it,
and a per-window table of estimate errors.

Standard library only, like common.py (which re-exports all of this): children in the peers'
virtualenv import it too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_results(bench: str, payload: Mapping[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{bench}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return v if isinstance(v, str) else format_number(v)

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def format_number(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:  # NaN
            return "n/a"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return str(v)


def mib(n_bytes: float) -> float:
    return n_bytes / 2**20


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def estimate_errors(
    truth: Sequence[Mapping[str, float]],
    estimates: Mapping[str, Sequence[Mapping[str, float]]],
    metrics: Mapping[str, str],
    lead: Sequence[Sequence[object]],
    lead_header: Sequence[str],
) -> tuple[list[str], list[list[object]], dict[str, dict[str, list[float]]]]:
    """A per-window table of realized values beside each tool's estimate and absolute error.

    `estimates` maps a tool's label to its estimates per window (as `truth`); `metrics` maps a
    metric key to its column label; `lead` holds each window's first cells (under `lead_header`).
    Returns the table's header and rows, and each tool's absolute errors per metric.
    """
    errors: dict[str, dict[str, list[float]]] = {who: {} for who in estimates}
    rows: list[list[object]] = []
    for w, real in enumerate(truth):
        row = list(lead[w])
        for metric in metrics:
            row.append(f"{real[metric]:.4f}")
            row += [f"{estimates[who][w][metric]:.4f}" for who in estimates]
            for who in estimates:
                error = abs(estimates[who][w][metric] - real[metric])
                errors[who].setdefault(metric, []).append(error)
                row.append(f"{error:.4f}")
        rows.append(row)
    header = list(lead_header)
    for label in metrics.values():
        header.append(f"{label} realized")
        header += [f"{label} {who}" for who in estimates]
        header += [f"{label} err {who}" for who in estimates]
    return header, rows, errors
