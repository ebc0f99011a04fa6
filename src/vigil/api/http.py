"""The HTTP side of the /api/v1 contract: one authenticated client and how a server's error answer
becomes the `VigilError` it names."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from vigil.errors import VigilError, error_for_code


def raise_for_error(response: httpx.Response) -> None:
    """A Vigil server's error answer (`{"error", "message", "details"}`, 400 and above) raised as
    the `VigilError` its `error` code names, or by HTTP status when the code is unknown."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {"error": "", "message": response.text[:300]}
    if not isinstance(body, dict):
        body = {"error": "", "message": str(body)[:300]}
    cls = error_for_code(str(body.get("error")), response.status_code)
    details = body.get("details")
    raise cls(str(body.get("message", "")), **(details if isinstance(details, dict) else {}))


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
