"""`VigilApi` covers every /api/v1 route the server has: each route is reached by one of its
typed calls (a stand-in for HTTP records the method and path of every call)."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import re
from pathlib import Path
from typing import Any

from vigil.api.client import VigilApi

CHOICES: dict[str, list[Any]] = {
    "kind": ["log", "labels"],
    "action": ["retire", "restore", "ack", "resolve"],
    "report": ["realized", "estimated", "segments", "fairness"],
    "format": ["json"],
}


class _Dumpable:
    def model_dump(self, **_: Any) -> dict[str, Any]:
        return {}

    def model_dump_json(self, **_: Any) -> str:
        return "{}"


class _Recorder:
    """Stands in for the HTTP client: records each call, then answers nothing useful."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str]] = set()

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.calls.add((method, path))
        raise LookupError("recorded")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs)

    def pages(self, path: str, params: Any) -> Any:
        return self.request("GET", path)


def _argument(parameter: inspect.Parameter) -> list[Any]:
    name, annotation = parameter.name, str(parameter.annotation)
    if "Mapping" in annotation:
        return [{}]
    if annotation.endswith(("In", "Spec")):
        return [_Dumpable()]
    if name in CHOICES:
        return CHOICES[name]
    if name in ("version", "alert_id"):
        return [1]
    if name in ("data", "content"):
        return [b""]
    if name == "hashes":
        return [[]]
    if name in ("max_points", "attempts"):
        return [None]
    if name in ("dry_run", "prune"):
        return [False]
    return ["n"]


def recorded_calls() -> set[tuple[str, str]]:
    api = VigilApi("http://testserver", None)
    recorder = _Recorder()
    for area in vars(api).values():
        if not hasattr(area, "http"):
            continue
        area.http = recorder
        for name, method in inspect.getmembers(area, inspect.ismethod):
            if name.startswith("_"):
                continue
            parameters = list(inspect.signature(method).parameters.values())
            positional = [p for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD]
            keywords = [p for p in parameters if p.kind == p.KEYWORD_ONLY and p.default is p.empty]
            for values in itertools.product(*(_argument(p) for p in positional)):
                extra = {p.name: _argument(p)[0] for p in keywords}
                with contextlib.suppress(LookupError, ValueError):  # recorded, or refused
                    method(*values, **extra)
    api.close()
    return recorder.calls


def server_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """The server's /api/v1 routes, from its OpenAPI document."""
    from vigil.server import Settings, create_app

    app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 'v.db'}"))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    assert len(routes) > 80  # the document lists them (a guard against a vacuous test)
    return routes


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        (".+" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


def test_every_api_route_has_a_typed_call(tmp_path: Path) -> None:
    calls = recorded_calls()
    missing = sorted(
        f"{method} {path}"
        for method, path in server_routes(tmp_path)
        if not any(m == method and _pattern(path).match(p) for m, p in calls)
    )
    assert missing == []


def test_every_typed_call_reaches_a_route(tmp_path: Path) -> None:
    routes = server_routes(tmp_path)
    stray = sorted(
        f"{method} {path}"
        for method, path in recorded_calls()
        if not any(m == method and _pattern(t).match(path) for m, t in routes)
    )
    assert stray == []
