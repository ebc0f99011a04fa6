"""The log and label POSTs of `HttpTransport` (every `client.log`), sent through the httpx
client's own transport without `httpx.Client.send`'s per-request layers.

`httpx.Client.request` builds each request from scratch (merging the base URL, default headers,
cookies and the timeout), runs an auth flow, a redirect loop, event hooks, a cookie jar's
extraction and timing around the transport call: about a millisecond of CPU on a small POST, as
much as profiling the call's rows. `DirectHttp` stands in for the `httpx.Client` under an
`ApiClient` (so retries, backoff, the error mapping and the answer's parsing are the very same
code): it builds a route's request once with `httpx.Client.build_request`, then per call only a
`httpx.Request` with the body, and hands it to the transport the client would pick for its URL
(the same connection pool, TLS context, proxy and timeouts). Whenever one of the skipped layers
would do something (an auth object, cookies, event hooks, redirects followed, client params, a
subclass of `httpx.Client`, a user name in the URL, any argument but `content`, an empty body),
the call goes through `httpx.Client.request` unchanged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("httpx")  # the line httpx.Client logs for each request, kept
MAX_ROUTES = 256
"""Request templates kept (one per model and kind); past that they are built again."""


class DirectHttp:
    """The `request` and `base_url` of `http` (an `httpx.Client`) that `ApiClient` uses, with
    the transport called directly when the client's other layers have nothing to do."""

    def __init__(self, http: httpx.Client) -> None:
        import httpx

        self._httpx = httpx
        self._http = http
        self._exact = type(http) is httpx.Client
        self._templates: dict[tuple[Any, ...], tuple[httpx.Request, httpx.BaseTransport]] = {}
        self._built_with: tuple[Any, ...] = ()

    @property
    def base_url(self) -> httpx.URL:
        return self._http.base_url

    def direct(self) -> bool:
        """Whether a call may skip `httpx.Client.send`'s layers now (they would do nothing)."""
        http = self._http
        hooks = http.event_hooks
        url = http.base_url
        return (
            self._exact
            and http.auth is None
            and not http.follow_redirects
            and not http.params
            and not hooks["request"]
            and not hooks["response"]
            and not http.cookies
            and not url.username
            and not url.password
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        if kwargs or not isinstance(content, bytes) or not content or not self.direct():
            return self._http.request(method, url, headers=headers, content=content, **kwargs)
        request, transport = self._template(method, url, headers or {})
        return self._send(request, transport, content)

    def _current(self) -> None:
        """Forget the templates when the client's default headers or timeout changed since."""
        http = self._http
        now = (http.headers.raw, http.timeout, http.base_url)
        if now != self._built_with:
            self._templates.clear()
            self._built_with = now

    def _template(
        self, method: str, url: str, headers: dict[str, str]
    ) -> tuple[httpx.Request, httpx.BaseTransport]:
        self._current()
        key = (method, url, *headers.items())
        found = self._templates.get(key)
        if found is None:
            if len(self._templates) >= MAX_ROUTES:
                self._templates.clear()
            # The request httpx.Client would build (base URL, default headers, timeout), less
            # the body's length, which each call's (non-empty) body sets again in the same place.
            built = self._http.build_request(method, url, headers=headers, content=b"-")
            del built.headers["Content-Length"]
            found = built, self._http._transport_for_url(built.url)
            self._templates[key] = found
        return found

    def _send(
        self, template: httpx.Request, transport: httpx.BaseTransport, content: bytes
    ) -> httpx.Response:
        httpx = self._httpx
        request = httpx.Request(
            template.method,
            template.url,
            headers=template.headers,
            content=content,
            extensions=template.extensions,
        )
        try:
            response = transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx.Client's request_context sets it
            raise
        response.request = request
        response.default_encoding = self._http._default_encoding
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        if "set-cookie" in response.headers:
            self._http.cookies.extract_cookies(response)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    def close(self) -> None:
        """Nothing: the `httpx.Client` belongs to the `ApiClient` that made it."""
