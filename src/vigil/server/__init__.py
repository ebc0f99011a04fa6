"""The Vigil server: REST API under /api/v1, /metrics, /health (FastAPI).

`create_app(Settings(...))` builds an app; `serve(settings)` runs one (what `vigil server` does).
"""

from __future__ import annotations

import warnings
from typing import Any

from vigil.config import Settings
from vigil.server.app import create_app, serve

__all__ = ["Settings", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "ServerSettings":  # the former flat settings class: the same names, now sections
        warnings.warn(
            "vigil.server.ServerSettings is deprecated: use vigil.config.Settings (the same "
            "names, e.g. Settings(store_url=..., max_request_bytes=...))",
            DeprecationWarning,
            stacklevel=2,
        )
        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
