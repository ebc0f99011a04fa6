"""The HTTP side of the /api/v1 contract: one authenticated client, how a server's error answer
becomes the `VigilError` it names, and the retries of a client that must not lose a call."""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from vigil.errors import VigilError, error_for_code

if TYPE_CHECKING:
    import httpx


class UnavailableError(VigilError):
    """The server could not be reached, or kept answering 429 or 5xx: a transient failure, worth
    a retry later (the client spools a log call that ends so)."""

    status_code = 503
    code = "server_unavailable"


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


def _httpx() -> Any:
    """httpx, imported when a client is made (importing `vigil.client` must stay light)."""
    try:
        return importlib.import_module("httpx")
    except ImportError:
        raise VigilError(
            "the client needs the 'httpx' package to talk to a Vigil server; "
            "install it with: pip install 'vigil[server]'"
        ) from None


def segment(value: str | int) -> str:
    """A name as one URL path segment (a name can never add path segments)."""
    return quote(str(value), safe="")


class ApiClient:
    """GET/POST/PUT/DELETE under `url` with `token`; `http` replaces the HTTP client (tests).

    With `retries=None` (the default) an answer is final: a 5xx is raised as the error it names.
    With `retries=N`, connection errors, 429 and 5xx are retried N times with exponential backoff
    and jitter from `backoff` seconds, then raised as `UnavailableError`.
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
        retries: int | None = None,
        backoff: float = 0.2,
    ) -> None:
        self._httpx = _httpx()
        self._owns = http is None
        self._http = http or self._httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.retries = retries
        self.backoff = backoff

    @property
    def http(self) -> httpx.Client:
        """The HTTP client the calls go through (owned by this one unless it was given)."""
        return self._http

    def request(
        self,
        method: str,
        path: str,
        *,
        attempts: int | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call; `attempts` overrides how many tries a retrying client makes (1: no retry)."""
        retrying = self.retries is not None or attempts is not None
        tries = attempts if attempts is not None else (self.retries or 0) + 1
        sent = {**self._headers, **(headers or {})}
        last = ""
        for attempt in range(max(tries, 1)):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                time.sleep(delay * (0.5 + random.random()))
            try:
                response = self._http.request(method, path, headers=sent, **kwargs)
            except self._httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if retrying and (response.status_code == 429 or response.status_code >= 500):
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            raise_for_error(response)
            return response
        raise UnavailableError(
            f"cannot reach the Vigil server: {method} {self._http.base_url}{path} "
            f"failed {max(tries, 1)} time(s): {last}"
        )

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def pages(self, path: str, params: Mapping[str, str]) -> list[Any]:
        """Every page of a list the server answers a bounded page at a time (the next page's
        start comes in `X-Vigil-Next-Start`)."""
        items: list[Any] = []
        page = dict(params)
        while True:
            response = self.request("GET", path, params=page)
            items.extend(response.json())
            following = response.headers.get("X-Vigil-Next-Start")
            if not following:
                return items
            page = {**page, "start": following}

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
