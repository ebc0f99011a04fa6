"""What every dashboard section is: a title, a sentence when it has nothing to show, charts and a
table; and the guard that turns another area's error into that sentence instead of an error
page (`sections`, `performance_sections`)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from vigil.errors import VigilError

logger = logging.getLogger("vigil.server.dashboard")


@dataclass
class Section:
    title: str
    empty: str = ""
    charts: list[tuple[str, Markup]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    note: str = ""
    choose: str = ""
    """When set, the charts are alternatives (one metric each): the page shows one at a time
    with a chooser named by this text ("metric")."""


def guard(title: str, build: Callable[[], Section]) -> Section:
    try:
        return build()
    except VigilError as exc:
        return Section(title, empty=exc.message)
    except Exception as exc:  # another area's code failing must not take the page down
        logger.exception("dashboard section %r failed", title)
        return Section(
            title, empty=f"This section failed to load ({type(exc).__name__}); see the server log."
        )


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.4g}"
    return "-" if value is None else str(value)


def as_dict(report: Any) -> dict[str, Any]:
    """A performance report as its API body (the shape docs/performance.md describes)."""
    body: dict[str, Any] = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    return body


def time_of(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value)).timestamp()
