"""A small JSON client of a Vigil server for the collaboration commands (live runs, reproduce,
events, retraining): bearer token, errors turned back into `VigilError`s by their code
(`vigil.registry.remote.raise_for_error`, shared with the remote registry)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from vigil.errors import VigilError
from vigil.registry.remote import raise_for_error


class ApiClient:
    """GET/POST/PUT/DELETE under `url` with `token`; `http` replaces the HTTP client (tests)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._owns = http is None
        self._http = http or httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise VigilError(f"cannot reach the Vigil server: {exc}") from exc
        raise_for_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def close(self) -> None:
        if self._owns:
            self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
