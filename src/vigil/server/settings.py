"""Former home of the server's flat settings class. Settings are now one `vigil.config.Settings`
with a section per area; `ServerSettings` here is a deprecated name of `Settings` (it takes the
same names: `ServerSettings(store_url=..., max_request_bytes=...)` still builds the settings).
The server section itself is `vigil.config.ServerSettings`."""

from __future__ import annotations

import warnings
from typing import Any

from vigil.config import Settings

__all__ = ["Settings"]


def __getattr__(name: str) -> Any:
    if name == "ServerSettings":
        warnings.warn(
            "vigil.server.settings.ServerSettings is deprecated: use vigil.config.Settings (the "
            "same names, e.g. Settings(store_url=..., max_request_bytes=...)); the server "
            "section alone is vigil.config.ServerSettings",
            DeprecationWarning,
            stacklevel=2,
        )
        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
