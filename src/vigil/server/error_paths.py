"""Error answers never show where the server keeps its files.

Messages are written without server paths, but a message can still carry one from deep below
(an artifact store, a database driver, a temporary folder). `without_paths` replaces the store's
database file, its artifact location and the temporary folder in an error body before it is
sent; the server log keeps the full text.
"""

from __future__ import annotations

import tempfile
from typing import Any

from starlette.requests import Request

_PLACEHOLDERS = ("<store>", "<artifacts>", "<temp>")


def server_paths(request: Request) -> list[tuple[str, str]]:
    """(path, placeholder) for each location the answers must not show, longest first."""
    found: list[tuple[str, str]] = []
    store = getattr(request.app.state, "store", None)
    if store is not None:
        database = store.engine.url.database
        if store.engine.dialect.name == "sqlite" and database and database != ":memory:":
            found.append((database, _PLACEHOLDERS[0]))
        found.append((str(store.artifacts.url), _PLACEHOLDERS[1]))
    found.append((tempfile.gettempdir().rstrip("/") + "/", _PLACEHOLDERS[2] + "/"))
    return sorted((p for p in found if len(p[0]) > 1), key=lambda p: -len(p[0]))


def _scrub(value: Any, paths: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for path, placeholder in paths:
            value = value.replace(path, placeholder)
        return value
    if isinstance(value, dict):
        return {key: _scrub(item, paths) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, paths) for item in value]
    return value


def without_paths(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with the server's own paths replaced by placeholders."""
    scrubbed: dict[str, Any] = _scrub(body, server_paths(request))
    return scrubbed
