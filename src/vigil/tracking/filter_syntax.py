"""The run filter language: its names, tokens and syntax tree (`parse_filter`); `search` compiles
the tree to SQL.

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

import re
from dataclasses import dataclass
from typing import Any, Literal

from vigil.errors import InvalidInputError
from vigil.store.tracking_tables import Run

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
ATTRIBUTES: dict[str, Any] = {  # the attribute names, and the `runs` columns they stand for
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
NUMERIC_ATTRIBUTES = {"start_time", "end_time", "experiment_id"}
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


class FilterParser:
    """A recursive-descent parser of one filter (or, with `identifier()`, of one name)."""

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
    return FilterParser(text).parse() if text and text.strip() else None
