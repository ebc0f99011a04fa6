"""Reading MLflow request fields and writing MLflow's JSON values.

MLflow's client sends GET parameters in the query string and everything else as a JSON body;
int64 fields may come as numbers or strings, and NaN or infinite metric values as the strings
"NaN", "Infinity" and "-Infinity" (proto3 JSON).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from vigil.ranges import EPOCH_MS_MAX, EPOCH_MS_MIN, INT64_MAX, INT64_MIN
from vigil.server.mlflow.errors import invalid

Payload = Mapping[str, Any]

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


def text(body: Payload, name: str, *, default: str | None = None) -> str:
    """A required string field (or `default` when given and the field is absent or empty)."""
    value = body.get(name)
    if value is None or value == "":
        if default is not None:
            return default
        raise invalid(f"Missing value for required parameter '{name}'.", parameter=name)
    if isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str | int | float):
        raise invalid(f"parameter '{name}' must be a string, got {value!r}", parameter=name)
    return str(value)


def optional_text(body: Payload, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    return text(body, name, default="")


def integer(body: Payload, name: str, default: int | None = None) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, list):
        value = value[0]
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise invalid(f"parameter '{name}' must be an integer, got {value!r}") from None
    if not INT64_MIN <= number <= INT64_MAX:
        raise invalid(
            f"parameter '{name}' must fit in a 64-bit integer ({INT64_MIN} to {INT64_MAX}), "
            f"got {value!r}",
            parameter=name,
        )
    return number


def time_ms(body: Payload, name: str, default: int | None = None) -> int | None:
    """A time in milliseconds since the epoch, between the years 1 and 9999."""
    value = integer(body, name, default)
    if value is not None and not EPOCH_MS_MIN <= value <= EPOCH_MS_MAX:
        raise invalid(
            f"parameter '{name}' must be a time in milliseconds since the epoch between the "
            f"years 1 and 9999 ({EPOCH_MS_MIN} to {EPOCH_MS_MAX}), got {value}",
            parameter=name,
        )
    return value


def number(body: Payload, name: str) -> float:
    value = body.get(name)
    if isinstance(value, str):
        lowered = value.strip().lower()
        special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}
        if lowered in special:
            return special[lowered]
    if value is None or isinstance(value, bool):
        raise invalid(f"Missing value for required parameter '{name}'.", parameter=name)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise invalid(f"parameter '{name}' must be a number, got {value!r}") from None


def strings(body: Payload, name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if isinstance(value, str | int):
        return [str(value)]
    if not isinstance(value, list):
        raise invalid(f"parameter '{name}' must be a list of strings, got {value!r}")
    return [str(v) for v in value]


def key_values(body: Payload, name: str) -> dict[str, str]:
    """`[{"key": k, "value": v}, ...]` as a dict."""
    items = body.get(name) or []
    if not isinstance(items, list):
        raise invalid(f"parameter '{name}' must be a list of {{key, value}}, got {items!r}")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping) or "key" not in item:
            raise invalid(f"each of '{name}' needs a 'key', got {item!r}")
        out[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
    return out


def pairs(values: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in sorted(values.items())]


def float_out(value: float | None) -> float | str:
    """A metric value as MLflow's JSON writes it (NaN and infinities as strings)."""
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def ms_of(value: dt.datetime) -> int:
    """A stored time as MLflow's milliseconds since the epoch (a naive time is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)
