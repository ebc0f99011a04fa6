"""Typed results: global importances and per-prediction explanations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vigil.analysis.explain.html import explanation_html
from vigil.analysis.explain.values import ExplanationValues, jsonable
from vigil.report.notebook import NotebookResult, Tone, isolated


@dataclass(frozen=True, repr=False)
class Importance(NotebookResult):
    """Global importance of each feature by one method (`permutation` or `shap`).

    For `permutation`, a value is the mean drop of the metric when the feature's column is
    shuffled (`std` over the repeats); for `shap`, the mean |SHAP value| over the rows.
    `to_pandas()`: one row per feature, most important first (rank, importance, std).
    """

    method: str
    values: dict[str, float]
    std: dict[str, float] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def ranking(self) -> list[str]:
        """Features from the most to the least important (ties keep the input order)."""
        order = sorted(enumerate(self.values.items()), key=lambda item: (-item[1][1], item[0]))
        return [name for _, (name, _) in order]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "values": dict(self.values),
            "std": dict(self.std) if self.std is not None else None,
            "ranking": self.ranking(),
            "details": dict(self.details),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _columns(self) -> tuple[str, ...]:
        return ("rank", "feature", "importance", "std")

    def _rows(self) -> list[dict[str, Any]]:
        std = self.std or {}
        return [
            {"rank": i + 1, "feature": f, "importance": self.values[f], "std": std.get(f)}
            for i, f in enumerate(self.ranking())
        ]

    def _headline(self) -> tuple[str, Tone]:
        top = ", ".join(self.ranking()[:3])
        return f"{self.method} importance of {len(self.values)} features; top: {top}", "neutral"


@dataclass(frozen=True, repr=False)
class Explanation(ExplanationValues, NotebookResult):
    """Per-row contributions of each feature. `base_value + contributions[i].sum()` is the
    model's output for row i in `output_space` (SHAP's additivity, checked to 1e-6). The fields
    and their reading are those of `ExplanationValues`.

    `to_pandas()`: one row per (row, feature): the feature's value and its contribution.
    """

    def importance(self) -> Importance:
        """Mean |contribution| per feature: SHAP's global importance."""
        means = np.abs(self.contributions).mean(axis=0)
        return Importance(
            "shap",
            {f: float(v) for f, v in zip(self.features, means, strict=True)},
            details={"algorithm": self.algorithm, "n_rows": self.n_rows},
        )

    def to_html(self, path: str | Path | None = None, *, title: str = "Explanation") -> str:
        """A self-contained HTML page (no scripts, no CDN): one bar chart per row. Written to
        `path` when given; the page is returned either way."""
        page = explanation_html(self, title=title)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _columns(self) -> tuple[str, ...]:
        return ("row", "feature", "value", "contribution", "output")

    def _rows(self) -> list[dict[str, Any]]:
        return [
            {
                "row": i,
                "feature": feature,
                "value": jsonable(self.data[i][j]),
                "contribution": float(self.contributions[i][j]),
                "output": float(self.output[i]),
            }
            for i in range(self.n_rows)
            for j, feature in enumerate(self.features)
        ]

    def _headline(self) -> tuple[str, Tone]:
        return (
            f"{self.algorithm} SHAP values of {self.n_rows} rows x {len(self.features)} "
            f"features, in {self.output_space} (base value {self.base_value:.4g})",
            "neutral",
        )

    def _repr_html_(self) -> str:
        return isolated(self.to_html(), height=min(900, 120 + 220 * self.n_rows))


def shares(values: Mapping[str, float]) -> dict[str, float]:
    """Each feature's share of the total (all zero when the total is zero)."""
    total = sum(abs(v) for v in values.values())
    return {k: (abs(v) / total if total else 0.0) for k, v in values.items()}
