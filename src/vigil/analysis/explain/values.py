"""The values of a per-prediction explanation: per row, each feature's contribution to the output.

`Explanation` (results.py) is these values plus its importance, its HTML page and notebook view;
the page's renderer (html.py) reads the values, so it does not import the explanation back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vigil.analysis.explain.inputs import Array, OutputSpace

ShapAlgorithm = Literal["tree", "linear", "kernel"]


@dataclass(frozen=True, repr=False)
class ExplanationValues:
    """The fields of an `Explanation`: rows x features contributions, the base value, the
    model's output per row and the explained data."""

    features: tuple[str, ...]
    contributions: Array
    """Rows x features."""
    base_value: float
    output: Array
    """The model's own output for each row, in `output_space`."""
    output_space: OutputSpace
    algorithm: ShapAlgorithm
    data: Array = field(repr=False)
    """The explained feature values (rows x features), as given."""
    target: Any = None
    """The class explained (classifiers), None for a regressor."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.contributions.shape[0])

    def additivity_error(self) -> float:
        """Largest |base + sum of contributions - model output| over the rows."""
        total = self.base_value + self.contributions.sum(axis=1)
        return float(np.max(np.abs(total - self.output))) if self.n_rows else 0.0

    def row(self, i: int) -> dict[str, Any]:
        values = self.contributions[i]
        return {
            "output": float(self.output[i]),
            "contributions": {f: float(v) for f, v in zip(self.features, values, strict=True)},
            "values": {f: jsonable(v) for f, v in zip(self.features, self.data[i], strict=True)},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "output_space": self.output_space,
            "target": jsonable(self.target),
            "base_value": self.base_value,
            "features": list(self.features),
            "rows": [self.row(i) for i in range(self.n_rows)],
            "details": dict(self.details),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def jsonable(value: Any) -> Any:
    """A JSON value: NumPy scalars as Python ones, non-finite floats as None, others as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
