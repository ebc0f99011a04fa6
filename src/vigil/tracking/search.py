"""The run filter language and its compilation to SQL.

    metrics.auc > 0.8 and params.model in ('xgb', 'lgbm')
    (tags.team = 'risk' OR tags.team LIKE 'growth%') AND status != 'failed'
    attributes.start_time >= 1700000000000 and params.`max depth` = '6'

Entities: `metrics.<key>` (the latest value; numbers), `params.<key>` and `tags.<key>`
(strings), and attributes (`status`, `run_name`, `run_id`, `owner`, `start_time`, `end_time` in
ms, `parent_run_id`), with or without an `attributes.` prefix. Operators: `=`, `!=`, `<`, `<=`,
`>`, `>=`, `[NOT] IN (...)`, `[NOT] LIKE` / `ILIKE` (strings); `AND` binds tighter than `OR`;
parentheses group. Keywords are case-insensitive; names with other characters go in backticks
or double quotes.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from vigil.errors import InvalidInputError
from vigil.ranges import int64
from vigil.store.tracking_tables import LatestMetric, Run, RunParam, RunTag

Entity = Literal["metrics", "params", "tags", "attributes"]
_PREFIXES: dict[str, Entity] = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "parameters": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
ATTRIBUTES: dict[str, Any] = {
    "status": Run.status,
    "run_name": Run.name,
    "name": Run.name,
    "run_id": Run.id,
    "id": Run.id,
    "owner": Run.owner,
    "user_id": Run.owner,
    "start_time": Run.start_ms,
    "end_time": Run.end_ms,
    "parent_run_id": Run.parent_id,
    "experiment_id": Run.experiment_id,
}
_NUMERIC_ATTRIBUTES = {"start_time", "end_time", "experiment_id"}
# Bounds on one filter, so that every filter the parser accepts compiles to SQL the store can
# run (SQLite refuses expression trees deeper than 1000 and more than 32766 parameters).
MAX_FILTER_LENGTH = 10_000  # characters
MAX_FILTER_DEPTH = 32  # nested parentheses
MAX_FILTER_TERMS = 200  # comparisons
MAX_FILTER_VALUES = 1_000  # values in all comparisons (IN lists count each value)
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))(?![\w.])
      | (?P<string>'(?:[^'\\]|\\.|'')*')
      | (?P<quoted>"(?:[^"\\]|\\.)*"|`[^`]*`)
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),.])
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = len(text) - len(text[position:].lstrip())
            raise InvalidInputError(
                f"filter {text!r}: unexpected {text[start : start + 10]!r} at character {start}",
                filter=text,
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Comparison:
    entity: Entity
    key: str
    op: str
    value: float | str | tuple[float | str, ...]


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    items: tuple[Node, ...]


Node = Comparison | BoolOp


def _unquote(token: Token) -> str:
    body = token.text[1:-1]
    if token.text[0] == "'":
        return body.replace("''", "'").replace("\\'", "'").replace("\\\\", "\\")
    return body.replace('\\"', '"')


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.depth = 0
        self.terms = 0
        self.values = 0
        if len(text) > MAX_FILTER_LENGTH:
            raise InvalidInputError(
                f"the filter has {len(text)} characters; at most {MAX_FILTER_LENGTH} are "
                "accepted (search in several steps)",
                filter=text[:100],
            )
        self.tokens = tokenize(text)
        self.i = 0

    def error(self, what: str) -> InvalidInputError:
        where = self.tokens[self.i].position if self.i < len(self.tokens) else len(self.text)
        return InvalidInputError(
            f"filter {self.text!r}: {what} at character {where}; e.g. "
            "\"metrics.auc > 0.8 and params.model in ('xgb', 'lgbm')\"",
            filter=self.text,
        )

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() in words:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or token.kind != kind or (text is not None and token.text != text):
            raise self.error(f"expected {text or kind}")
        self.i += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.keyword("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self) -> Node:
        items = [self.atom()]
        while self.keyword("and"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def atom(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            if self.depth >= MAX_FILTER_DEPTH:
                raise self.error(f"parentheses nest deeper than {MAX_FILTER_DEPTH} levels")
            self.i += 1
            self.depth += 1
            node = self.or_expr()
            self.expect("punct", ")")
            self.depth -= 1
            return node
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise self.error(f"more than {MAX_FILTER_TERMS} comparisons")
        return self.comparison()

    def identifier(self) -> tuple[Entity, str]:
        token = self.peek()
        if token is None or token.kind not in ("word", "quoted"):
            raise self.error("expected a name like metrics.auc, params.model or status")
        self.i += 1
        first = token.text if token.kind == "word" else _unquote(token)
        nxt = self.peek()
        if token.kind == "word" and nxt is not None and nxt.kind == "punct" and nxt.text == ".":
            entity = _PREFIXES.get(first.lower())
            if entity is None:
                raise self.error(
                    f"unknown entity {first!r}; use metrics., params., tags. or attributes."
                )
            self.i += 1
            parts = [self._name_part()]
            while (p := self.peek()) is not None and p.kind == "punct" and p.text == ".":
                self.i += 1
                parts.append(self._name_part())
            key = ".".join(parts)
        else:
            entity, key = "attributes", first
        if entity == "attributes" and key.lower() not in ATTRIBUTES:
            raise self.error(
                f"unknown attribute {key!r}; attributes are {', '.join(sorted(ATTRIBUTES))}"
            )
        return entity, key.lower() if entity == "attributes" else key

    def _name_part(self) -> str:
        token = self.peek()
        if token is None or token.kind not in ("word", "quoted", "number"):
            raise self.error("expected a key after '.'")
        self.i += 1
        return _unquote(token) if token.kind == "quoted" else token.text

    def value(self) -> float | str:
        token = self.peek()
        if token is None:
            raise self.error("expected a value")
        self.values += 1
        if self.values > MAX_FILTER_VALUES:
            raise self.error(f"more than {MAX_FILTER_VALUES} values")
        self.i += 1
        if token.kind == "number":
            return float(token.text)
        if token.kind == "string":
            return _unquote(token)
        if token.kind == "quoted" and token.text[0] == '"':
            return _unquote(token)
        self.i -= 1
        raise self.error(f"expected a number or a 'string', got {token.text!r}")

    def comparison(self) -> Comparison:
        entity, key = self.identifier()
        negated = self.keyword("not")
        if self.keyword("in"):
            self.expect("punct", "(")
            values = [self.value()]
            while (p := self.peek()) is not None and p.kind == "punct" and p.text == ",":
                self.i += 1
                values.append(self.value())
            self.expect("punct", ")")
            return Comparison(entity, key, "not in" if negated else "in", tuple(values))
        for word in ("like", "ilike"):
            if self.keyword(word):
                pattern = self.value()
                if not isinstance(pattern, str):
                    raise self.error(f"{word.upper()} needs a 'string' pattern")
                return Comparison(entity, key, f"not {word}" if negated else word, pattern)
        if negated:
            raise self.error("expected IN or LIKE after NOT")
        token = self.peek()
        if token is None or token.kind != "op":
            raise self.error("expected a comparison (=, !=, <, <=, >, >=, IN, LIKE)")
        self.i += 1
        op = {"==": "=", "<>": "!="}.get(token.text, token.text)
        return Comparison(entity, key, op, self.value())


def parse_filter(text: str | None) -> Node | None:
    """The filter's syntax tree (None for an empty filter); InvalidInputError says where it is
    wrong."""
    return _Parser(text).parse() if text and text.strip() else None


def compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    """`column <op> value` as SQL, for the filter operators (=, !=, <, <=, >, >=, [NOT] IN,
    [NOT] LIKE, [NOT] ILIKE); `value` is a tuple for IN. Also used by the MLflow-compatible
    filters (`vigil.server.mlflow.filters`)."""
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op in ("in", "not in"):
        condition = column.in_(list(value) if isinstance(value, tuple) else [value])
        return not_(condition) if op == "not in" else condition  # type: ignore[no-any-return]
    if op in ("like", "not like"):
        condition = column.like(str(value))
        return not_(condition) if op == "not like" else condition  # type: ignore[no-any-return]
    condition = func.lower(column).like(str(value).lower())
    return not_(condition) if op == "not ilike" else condition


def _check_values(node: Comparison) -> None:
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    numeric = node.entity == "metrics" or (
        node.entity == "attributes" and node.key in _NUMERIC_ATTRIBUTES
    )
    if numeric and "like" in node.op:
        raise InvalidInputError(f"LIKE compares strings; {node.entity}.{node.key} is numeric")
    for value in values:
        if numeric and not isinstance(value, float):
            raise InvalidInputError(
                f"{node.entity}.{node.key} is compared with numbers, got {value!r}",
                key=node.key,
            )
        if not numeric and not isinstance(value, str):
            raise InvalidInputError(
                f"{node.entity}.{node.key} is compared with 'strings', got {value!r} (quote it)",
                key=node.key,
            )


def _whole(value: Any, field: str) -> int:
    """A numeric attribute's value as the integer the store compares (64 bits at most)."""
    if not math.isfinite(value):
        raise InvalidInputError(f"{field}: {value} is not a finite number", field=field)
    return int64(int(value), field)


def compile_filter(node: Node | None) -> ColumnElement[bool]:
    """A WHERE clause on `runs` for the filter's syntax tree."""
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [compile_filter(item) for item in node.items]
        return and_(*parts) if node.op == "and" else or_(*parts)
    _check_values(node)
    value: Any = node.value
    if node.entity == "attributes":
        column = ATTRIBUTES[node.key]
        if node.key in _NUMERIC_ATTRIBUTES:
            name = f"filter attributes.{node.key}"
            value = (
                tuple(_whole(v, name) for v in value)
                if isinstance(value, tuple)
                else _whole(value, name)
            )
        elif node.key == "status":
            value = (
                tuple(str(v).lower() for v in value)
                if isinstance(value, tuple)
                else str(value).lower()
            )
        return compare(column, node.op, value)
    table: Any = {"metrics": LatestMetric, "params": RunParam, "tags": RunTag}[node.entity]
    # A negated test ("!=", NOT IN, NOT LIKE) matches runs that have the key with another value,
    # as MLflow reads it.
    condition = compare(table.value, node.op, value)
    return exists(
        select(table.run_id).where(table.run_id == Run.id, table.key == node.key, condition)
    )


_ORDER = re.compile(r"^\s*(?P<name>.+?)(?:\s+(?P<dir>asc|desc))?\s*$", re.IGNORECASE)


def required_keys(node: Node | None) -> dict[tuple[str, str], list[Comparison]]:
    """The metric, param and tag keys every matching run has (tested in the filter's top-level
    AND), with their tests: a run passing `metrics.auc > 0.8 and ...` has a non-null auc."""
    items: tuple[Node, ...] = ()
    if isinstance(node, Comparison):
        items = (node,)
    elif isinstance(node, BoolOp) and node.op == "and":
        items = node.items
    found: dict[tuple[str, str], list[Comparison]] = {}
    for item in items:
        if isinstance(item, Comparison) and item.entity != "attributes":
            found.setdefault((item.entity, item.key), []).append(item)
    return found


def apply_order(
    query: Select[Any],
    order_by: list[str] | None,
    required: dict[tuple[str, str], list[Comparison]] | None = None,
) -> Select[Any]:
    """ORDER BY clauses like `metrics.auc DESC`, `params.model`, `start_time ASC`; runs without
    the key come last; ties by start time (newest first), then id.

    A key in `required` (see `required_keys`) is joined, not outer-joined, with the filter's
    tests on it: the database can then walk the key's (key, value) index in order and stop at
    the page's end instead of sorting every match (100k runs: ~400 ms -> a few ms on
    PostgreSQL)."""
    for i, clause in enumerate(order_by or []):
        match = _ORDER.match(clause)
        if match is None or not match.group("name"):
            raise InvalidInputError(f"order_by clause {clause!r} must be 'NAME [ASC|DESC]'")
        parser = _Parser(match.group("name"))
        entity, key = parser.identifier()
        if parser.peek() is not None:
            raise InvalidInputError(f"order_by clause {clause!r} must be 'NAME [ASC|DESC]'")
        descending = (match.group("dir") or "asc").lower() == "desc"
        if entity == "attributes":
            column: Any = ATTRIBUTES[key]
        else:
            table: Any = {"metrics": LatestMetric, "params": RunParam, "tags": RunTag}[entity]
            alias = aliased(table, name=f"order_{i}")
            tests = (required or {}).get((entity, key))
            if tests:
                for test in tests:
                    _check_values(test)
                conditions = [compare(alias.value, t.op, t.value) for t in tests]
                query = query.join(
                    alias, and_(alias.run_id == Run.id, alias.key == key, *conditions)
                )
                query = query.order_by(alias.value.desc() if descending else alias.value.asc())
                continue
            query = query.outerjoin(alias, and_(alias.run_id == Run.id, alias.key == key))
            column = alias.value
        query = query.order_by(column.is_(None), column.desc() if descending else column.asc())
    return query.order_by(Run.start_ms.desc(), Run.id)


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInputError(
            f"page_token {token!r} is not one that search_runs returned"
        ) from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"page_token {token!r} is not one that search_runs returned")
    return offset


def _order_keys(order_by: list[str] | None) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for clause in order_by or []:
        match = _ORDER.match(clause)
        if match is not None and match.group("name"):
            try:
                keys.add(_Parser(match.group("name")).identifier())
            except InvalidInputError:
                continue  # apply_order names the bad clause
    return keys


def _without(node: Node | None, consumed: list[Comparison]) -> Node | None:
    """The filter without the top-level comparisons that an ORDER BY join already applies."""
    if isinstance(node, Comparison):
        return None if node in consumed else node
    if isinstance(node, BoolOp) and node.op == "and":
        rest = tuple(item for item in node.items if item not in consumed)
        return None if not rest else rest[0] if len(rest) == 1 else BoolOp("and", rest)
    return node


def runs_query(
    experiment_ids: list[int] | None,
    filter_string: str | None,
    order_by: list[str] | None,
    *,
    stages: Sequence[str] = ("active",),
) -> Select[Any]:
    """SELECT of matching runs (in the lifecycle `stages`, active ones by default), ordered. A
    filter's test on a key that is also ordered by is applied once, in the ORDER BY join (see
    `apply_order`), not again as an EXISTS."""
    tree = parse_filter(filter_string)
    ordered = _order_keys(order_by)
    required = {k: tests for k, tests in required_keys(tree).items() if k in ordered}
    consumed = [test for tests in required.values() for test in tests]
    query = select(Run).where(
        Run.lifecycle_stage.in_(stages), compile_filter(_without(tree, consumed))
    )
    if experiment_ids is not None:
        query = (
            query.where(Run.experiment_id.in_(experiment_ids))
            if experiment_ids
            else query.where(false())
        )
    return apply_order(query, order_by, required)
