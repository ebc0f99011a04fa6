"""MLflow's filter strings.

Runs: MLflow's run filter is the language Vigil's own search speaks (`metrics.auc > 0.8 and
params.model = 'xgb'`), so it is handed to `vigil.tracking.search` after renaming the few
attributes MLflow spells differently (`attributes.created` is the start time).

Experiments, registered models, model versions and logged models: MLflow accepts a conjunction
of simple comparisons (`name LIKE 'churn%' AND tags.team = 'risk'`); `parse_simple` reads it
into clauses that each caller compiles against its own columns.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from vigil.server.mlflow.errors import invalid
from vigil.tracking.filter_syntax import MAX_FILTER_LENGTH, MAX_FILTER_TERMS
from vigil.tracking.search import compare

_RUN_ATTRIBUTE_ALIASES = re.compile(
    r"\b(attributes?|attr|run)\.(created|Created|creation_time)\b|\b(attributes?|attr|run)\.`(Created|created)`"
)
_ORDER_ALIASES = {"created": "start_time", "creation_time": "start_time"}


def run_filter(text: str | None) -> str | None:
    """An MLflow run filter in Vigil's search language."""
    if not text:
        return None
    return _RUN_ATTRIBUTE_ALIASES.sub("attributes.start_time", text)


def run_order_by(clauses: list[str]) -> list[str]:
    """MLflow's `order_by` clauses in Vigil's spelling (`attributes.created DESC` ->
    `attributes.start_time DESC`)."""
    out = []
    for clause in clauses:
        parts = clause.strip().split()
        if parts:
            name = parts[0]
            bare = name.split(".", 1)[1] if name.lower().startswith("attribute") else name
            if bare.strip("`").lower() in _ORDER_ALIASES:
                parts[0] = "attributes." + _ORDER_ALIASES[bare.strip("`").lower()]
        out.append(" ".join(parts))
    return out


@dataclass(frozen=True)
class Clause:
    name: str
    """`name`, `run_id`, ...; `tags.<key>` for a tag."""
    op: str
    """`=`, `!=`, `<`, `<=`, `>`, `>=`, `like`, `ilike`, `in` or `not in`."""
    value: Any


_SIMPLE = re.compile(
    r"""\s*(?P<name>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|"[^"]+"|[A-Za-z_][\w.]*))\s*
        (?P<op>!=|<>|>=|<=|==|=|<|>|(?:not\s+)?ilike|(?:not\s+)?like|(?:not\s+)?in)\s*
        (?P<value>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|\((?:[^)'"]|'(?:[^'\\]|\\.)*'|"[^"]*")*\)|[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*""",
    re.VERBOSE | re.IGNORECASE,
)
_AND = re.compile(r"\s*and\s+", re.IGNORECASE)
_ITEM = re.compile(r"""'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.)*)"|([-+]?\d+(?:\.\d*)?)""")


def _literal(raw: str) -> Any:
    if raw[0] in "'\"":
        return raw[1:-1].replace("''", "'").replace("\\'", "'")
    if raw[0] == "(":
        items = []
        for match in _ITEM.finditer(raw[1:-1]):
            single, double, num = match.groups()
            items.append(single if single is not None else double if double is not None else num)
        return tuple(i.replace("''", "'") if isinstance(i, str) else i for i in items)
    return float(raw) if "." in raw or "e" in raw.lower() else int(raw)


def parse_simple(text: str | None) -> list[Clause]:
    """The clauses of `a = 'x' AND tags.k LIKE 'y%' AND n IN ('1', '2')`."""
    if not text or not text.strip():
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid(
            f"the filter has {len(text)} characters; at most {MAX_FILTER_LENGTH} are accepted",
            filter=text[:100],
        )
    clauses = []
    position = 0
    while position < len(text):
        match = _SIMPLE.match(text, position)
        if match is None:
            raise invalid(
                f"filter {text!r}: cannot read a comparison at character {position} "
                "(expected e.g. name = 'churn' or tags.team LIKE 'r%')",
                filter=text,
            )
        name = match.group("name")
        prefix, _, rest = name.partition(".")
        if rest and prefix.lower() in ("tags", "tag"):
            name = "tags." + rest.strip('`"')
        elif rest and prefix.lower() in ("attributes", "attribute", "attr"):
            name = rest.strip('`"')
        else:
            name = name.strip('`"')
        op = " ".join(match.group("op").lower().split())
        op = {"==": "=", "<>": "!="}.get(op, op)
        clauses.append(Clause(name, op, _literal(match.group("value"))))
        if len(clauses) > MAX_FILTER_TERMS:
            raise invalid(
                f"the filter has more than {MAX_FILTER_TERMS} comparisons", filter=text[:100]
            )
        position = match.end()
        if position < len(text):
            joined = _AND.match(text, position)
            if joined is None:
                raise invalid(
                    f"filter {text!r}: expected AND at character {position} (only AND joins "
                    "comparisons in this filter)",
                    filter=text,
                )
            position = joined.end()
    return clauses


def compile_simple(
    clauses: list[Clause],
    columns: Mapping[str, Any],
    *,
    tag: Callable[[str, str, Any], ColumnElement[bool]] | None = None,
    what: str,
) -> ColumnElement[bool]:
    """The clauses as one SQL condition over `columns` (name -> column); `tag(key, op, value)`
    compiles `tags.<key>` clauses. An unknown name is an error naming the ones allowed."""
    parts: list[ColumnElement[bool]] = []
    for clause in clauses:
        if clause.name.startswith("tags.") and tag is not None:
            parts.append(tag(clause.name[5:], clause.op, clause.value))
            continue
        column = columns.get(clause.name.lower())
        if column is None:
            allowed = ", ".join(sorted(columns)) + (", tags.<key>" if tag is not None else "")
            raise invalid(
                f"cannot filter {what} on {clause.name!r}; the filter knows {allowed}",
                key=clause.name,
            )
        value = clause.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            python_type = getattr(getattr(column, "type", None), "python_type", None)
            if python_type is str:
                value = str(value)
        parts.append(compare(column, clause.op, value))
    return and_(true(), *parts)


def tags_match(tags: Mapping[str, Any], clauses: list[Clause]) -> bool:
    """Whether `tags` pass every `tags.<key>` clause (the registry keeps tags as JSON, so they
    are tested in Python)."""
    for clause in clauses:
        value = tags.get(clause.name[5:])
        if value is None:
            # MLflow's client adds `tags.mlflow.prompt.is_prompt != 'true'`: a model without
            # the tag passes a negated test.
            if clause.op in ("!=", "not like", "not ilike", "not in"):
                continue
            return False
        value = str(value)
        target = clause.value
        if clause.op == "=" and value != str(target):
            return False
        if clause.op == "!=" and value == str(target):
            return False
        if clause.op in ("like", "ilike"):
            pattern = str(target).replace("%", "*").replace("_", "?")
            candidate, pattern = (
                (value.lower(), pattern.lower()) if clause.op == "ilike" else (value, pattern)
            )
            if not fnmatch.fnmatchcase(candidate, pattern):
                return False
        if clause.op == "in" and value not in {str(t) for t in target}:
            return False
        if clause.op == "not in" and value in {str(t) for t in target}:
            return False
    return True
