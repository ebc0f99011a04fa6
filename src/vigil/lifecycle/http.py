"""A small JSON client of a Vigil server for the collaboration commands (live runs, reproduce,
events, retraining): bearer token, errors turned back into `VigilError`s by their code."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from vigil.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    VigilError,
)

_ERRORS: dict[str, type[VigilError]] = {
    "not_found": NotFoundError,
    "invalid_input": InvalidInputError,
    "conflict": ConflictError,
    "unauthenticated": AuthenticationError,
    "forbidden": PermissionDeniedError,
}


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
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": "", "message": response.text[:300]}
            cls = _ERRORS.get(str(body.get("error")), VigilError)
            if cls is VigilError and response.status_code in (404, 409, 422):
                cls = {404: NotFoundError, 409: ConflictError, 422: InvalidInputError}[
                    response.status_code
                ]
            raise cls(str(body.get("message", "")), **(body.get("details") or {}))
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
