"""The checks every JSON request body passes before a route sees it.

Python's `json` accepts what the store and the pages cannot use: integers of any size, `NaN`
and `Infinity` (and `1e999`, which becomes infinity), and nesting until the parser runs out of
recursion. `guard_json_body`, a dependency of every route, refuses each with a 422 naming the
field (`body.metrics[3].step`), before the route's own validation runs. The one exception is a
metric point's value on the metric-logging routes, which MLflow allows to be NaN or infinite.
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any

from fastapi import Request

from vigil.errors import InvalidInputError
from vigil.ranges import INT64_MAX, INT64_MIN

MAX_JSON_DEPTH = 64  # nesting levels of objects and arrays in a request body
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes that log metric points (Vigil's and MLflow's): a point's `value` may be NaN or infinite.
METRIC_ROUTES = ("/log-batch", "/runs/log-metric")


def field_name(loc: tuple[str | int, ...]) -> str:
    """`("body", "metrics", 3, "step")` as `body.metrics[3].step`."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


def _refuse(loc: tuple[str | int, ...], problem: str, kind: str) -> InvalidInputError:
    field = field_name(loc)
    return InvalidInputError(
        f"{field}: {problem}",
        field=field,
        errors=[{"loc": list(loc), "msg": problem, "type": kind}],
    )


def too_deep(loc: tuple[str | int, ...] = ("body",)) -> InvalidInputError:
    return _refuse(
        loc,
        f"the JSON nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays",
        "json_too_deep",
    )


def _acceptable(value: Any, metric_values: bool) -> bool:
    """Whether `value` passes `check_json`: a fast walk that builds no field names (one metric
    point costs about what parsing it did); `check_json` walks again only to name the field."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_JSON_DEPTH:
            return False
        pairs = item.items() if type(item) is dict else zip(repeat(None), item, strict=False)
        for key, child in pairs:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is int:
                if not INT64_MIN <= child <= INT64_MAX:
                    return False
            elif (
                kind is float
                and not (-math.inf < child < math.inf)
                and not (metric_values and key == "value")
            ):
                return False
    return True


def check_json(
    value: Any, root: tuple[str | int, ...] = ("body",), *, metric_values: bool = False
) -> None:
    """Refuse nesting past MAX_JSON_DEPTH, integers outside 64 bits and non-finite numbers
    (except, with `metric_values`, as a metric point's `value`: MLflow records NaN and
    infinite metrics)."""
    if type(value) in (dict, list) and _acceptable(value, metric_values):
        return
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(value, root, 0)]
    while stack:
        item, loc, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise too_deep(loc)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((v, (*loc, k), depth + 1) for k, v in pairs)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise _refuse(
                    loc,
                    f"{item} does not fit in a 64-bit integer ({INT64_MIN} to {INT64_MAX})",
                    "int64_range",
                )
        elif isinstance(item, float) and not math.isfinite(item):
            if metric_values and loc[-1] == "value":
                continue
            raise _refuse(
                loc,
                f"{item} is not a finite number (NaN, Infinity and numbers past 1.8e308 are "
                "not accepted)",
                "finite_number",
            )


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "" or content_type.endswith(("/json", "+json"))


async def guard_json_body(request: Request) -> None:
    """Check a JSON request body (see `check_json`); other bodies are left to their route."""
    if request.method not in _BODY_METHODS or not _is_json(request):
        return
    raw = await request.body()
    if raw.lstrip()[:1] not in (b"{", b"["):
        return  # a scalar, or not JSON: the route says what it expected
    try:
        value = await request.json()
    except RecursionError:
        raise too_deep() from None
    except ValueError:
        return  # not JSON: the route reports it as it always did
    check_json(value, metric_values=request.url.path.endswith(METRIC_ROUTES))
