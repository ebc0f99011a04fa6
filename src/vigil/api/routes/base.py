"""What every area of routes shares: the HTTP client it calls through."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.api.http import ApiClient

V1 = "/api/v1"


class Area:
    """The routes of one area, called through `http` (its URL, token and retries)."""

    def __init__(self, http: ApiClient) -> None:
        self.http = http
