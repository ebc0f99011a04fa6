"""A route's path lives in `vigil.api` (the typed client) and the server's routers, nowhere else:
no other module of the package holds an `/api/...` path literal, and none calls a private
`_request`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "vigil"
ALLOWED = (SRC / "api", SRC / "server")
# A path: the literal starts with /api/, or a URL reaches /api/ before any space (prose that
# names a route in a docstring or a help text does not count).
PATH = re.compile(r"^\S*/api/")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def path_literals(source: str) -> list[tuple[int, str]]:
    """The (line, text) of each string literal in `source` that holds an /api/ path."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                for v in node.values
            )
            for value in node.values:
                skip.add(id(value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in skip:
                continue
            text = node.value
        else:
            continue
        if PATH.match(text.strip()):
            found.append((node.lineno, text))
    return found


def private_requests(source: str) -> list[int]:
    """The lines that call a `_request` method of another object (`x._request(...)`)."""
    tree = ast.parse(source)
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_request"
    ]


def _outside() -> list[Path]:
    return [
        path
        for path in sorted(SRC.rglob("*.py"))
        if not any(path.is_relative_to(allowed) for allowed in ALLOWED)
    ]


def test_the_scan_sees_paths_in_every_form() -> None:
    source = (
        '"""Calls GET /api/v1/models (prose)."""\n'
        'A = "/api/v1/models"\n'
        'B = f"/api/v1/models/{name}/log"\n'
        'C = base + "http://host/api/2.0/mlflow/runs"\n'
        'D = "see POST /api/v1/monitors/run"\n'
        "client._request('GET', '/x')\n"
    )
    assert [line for line, _ in path_literals(source)] == [2, 3, 4]
    assert private_requests(source) == [6]


def test_no_module_outside_api_and_server_knows_a_route_path() -> None:
    found = {
        f"{path.relative_to(SRC)}:{line}": text
        for path in _outside()
        for line, text in path_literals(path.read_text(encoding="utf-8"))
    }
    assert found == {}, "route paths belong in vigil/api/routes (and the server's routers)"


def test_no_module_outside_api_calls_a_private_request() -> None:
    calls = [
        f"{path.relative_to(SRC)}:{line}"
        for path in _outside()
        for line in private_requests(path.read_text(encoding="utf-8"))
    ]
    assert calls == []
