"""The log and label POSTs of `HttpTransport` (every `client.log`), sent without
`httpx.Client.send`'s per-request layers and, when nothing but a plain connection is in play,
without httpx's transport either.

`httpx.Client.request` builds each request from scratch (merging the base URL, default headers,
cookies and the timeout), runs an auth flow, a redirect loop, event hooks, a cookie jar's
extraction and timing around the transport call; its transport then goes through httpcore's pool
and h11's state machine: together more than a millisecond of CPU on a small POST, more than
profiling the call's rows. `DirectHttp` stands in for the `httpx.Client` under an `ApiClient`
(so retries, backoff, the error mapping and the answer's parsing are the very same code): it
builds a route's request once with `httpx.Client.build_request`, then per call

- over the client's own kept-alive connection (`vigil.client.http11`, h11 writing the request
  httpcore would give it, with the call's body), and an `httpx.Response` of the answer, when the
  transport the client picks for the URL is its default `httpx.HTTPTransport` on a plain
  HTTP/1.1 pool (no proxy, no HTTP/2, no Unix socket, local address, socket options or connect
  retries), the scheme is http or https (TLS with that pool's SSL context), every header is one
  h11 writes as it is and no other thread is using that connection at the moment;
- else through the transport the client would pick for the URL (the same connection pool, TLS
  context, proxy and timeouts), with a `httpx.Request` carrying the body.

Whenever one of the skipped `httpx.Client` layers would do something (an auth object, cookies,
event hooks, redirects followed, client params, a subclass of `httpx.Client`, a user name in the
URL, any argument but `content`, an empty body), the call goes through `httpx.Client.request`
unchanged.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from vigil.client.http11 import Http11Connection

logger = logging.getLogger("httpx")  # the line httpx.Client logs for each request, kept
MAX_ROUTES = 256
"""Request templates kept (one per model and kind); past that they are built again."""
_DEFAULT_PORTS = {"http": 80, "https": 443}
CLOSE_WAIT_S = 5.0
"""How long closing waits for a call in flight on another thread before closing under it."""


@dataclass(frozen=True)
class _Route:
    """A route's request as httpx builds it (less the body's length), and how it is sent: over
    `connection` (the request line's target and the headers h11 is given, less the body's
    length, as httpcore gives them), or else through `transport`."""

    template: httpx.Request
    transport: httpx.BaseTransport
    target: bytes
    headers: list[tuple[bytes, bytes]]
    connection: Http11Connection | None


class DirectHttp:
    """The `request` and `base_url` of `http` (an `httpx.Client`) that `ApiClient` uses, with
    the transport, or a connection of its own, called directly when the client's other layers
    have nothing to do."""

    def __init__(self, http: httpx.Client) -> None:
        import httpx

        self._httpx = httpx
        self._http = http
        self._exact = type(http) is httpx.Client
        self._templates: dict[tuple[Any, ...], _Route] = {}
        self._built_with: tuple[Any, ...] = ()
        self._connections: dict[tuple[Any, ...], Http11Connection] = {}
        self._lock = threading.Lock()  # one call at a time on the connections

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
        route = self._route(method, url, headers or {})
        if route.connection is not None and self._lock.acquire(blocking=False):
            try:
                return self._exchange(route, route.connection, content)
            finally:
                self._lock.release()
        return self._send(route, content)

    def _current(self) -> None:
        """Forget the templates (and close the connections) when the client's default headers,
        timeout or base URL changed since."""
        http = self._http
        now = (http.headers.raw, http.timeout, http.base_url)
        if now != self._built_with:
            self._templates.clear()
            self._close_connections()
            self._built_with = now

    def _route(self, method: str, url: str, headers: dict[str, str]) -> _Route:
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
            transport = self._http._transport_for_url(built.url)
            connection = self._connection_for(built, transport)
            found = _Route(built, transport, built.url.raw_path, built.headers.raw, connection)
            self._templates[key] = found
        return found

    def _connection_for(
        self, request: httpx.Request, transport: httpx.BaseTransport
    ) -> Http11Connection | None:
        """The kept-alive connection to send `request` on, or None when httpx's transport must
        send it (a proxy, HTTP/2, anything the plain connection does not do as httpcore does)."""
        import httpcore

        from vigil.client.http11 import Http11Connection, Timeouts, valid_request

        httpx = self._httpx
        if transport is not getattr(self._http, "_transport", None):
            return None  # a mounted transport: a proxy, or the user's own
        if type(transport) is not httpx.HTTPTransport:
            return None
        pool = getattr(transport, "_pool", None)
        if type(pool) is not httpcore.ConnectionPool:
            return None  # an HTTPProxy or SOCKSProxy pool
        settings = {
            name: getattr(pool, name, _MISSING)
            for name in ("_http1", "_http2", "_uds", "_local_address", "_socket_options")
        }
        plain = settings == {
            "_http1": True,
            "_http2": False,
            "_uds": None,
            "_local_address": None,
            "_socket_options": None,
        }
        backend = getattr(pool, "_network_backend", None)
        if not plain or getattr(pool, "_retries", None) != 0:
            return None
        if type(backend) is not httpcore.SyncBackend:
            return None
        url = request.url
        scheme = url.scheme
        ssl_context = getattr(pool, "_ssl_context", None)
        if scheme not in _DEFAULT_PORTS:
            return None
        if scheme == "https" and not isinstance(ssl_context, ssl.SSLContext):
            return None
        if set(request.extensions) != {"timeout"} or request.method != "POST":
            return None
        if not valid_request(b"POST", request.url.raw_path, [*request.headers.raw, _LENGTH]):
            return None
        timeout = request.extensions["timeout"]
        expiry = getattr(pool, "_keepalive_expiry", _MISSING)
        if expiry is not None and not isinstance(expiry, int | float):
            return None
        host = url.raw_host.decode("ascii")
        port = url.port or _DEFAULT_PORTS[scheme]
        timeouts = Timeouts(timeout.get("connect"), timeout.get("read"), timeout.get("write"))
        key = (scheme, host, port, timeouts, expiry)
        connection = self._connections.get(key)
        if connection is None:
            connection = Http11Connection(
                host,
                port,
                ssl_context=ssl_context if scheme == "https" else None,
                timeouts=timeouts,
                keepalive_expiry=expiry,
                errors=httpx,
            )
            self._connections[key] = connection
        return connection

    def _exchange(
        self, route: _Route, connection: Http11Connection, content: bytes
    ) -> httpx.Response:
        httpx = self._httpx
        template = route.template
        try:
            answer = connection.exchange(
                b"POST",
                route.target,
                [*route.headers, (b"Content-Length", b"%d" % len(content))],
                content,
            )
        except httpx.RequestError as exc:
            exc.request = self._sent(template, content)  # as httpx.Client's request_context
            raise
        response = httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.body),
            extensions={"http_version": answer.version, "reason_phrase": answer.reason},
        )
        # The request is built only when something reads it (a cookie set by the answer): a
        # httpx.Request costs 10 us; ApiClient reads the answer's status, headers and body.
        return self._finish(response, template, content, None)

    def _send(self, route: _Route, content: bytes) -> httpx.Response:
        httpx = self._httpx
        request = self._sent(route.template, content)
        try:
            response = route.transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx.Client's request_context sets it
            raise
        return self._finish(response, route.template, content, request)

    def _sent(self, template: httpx.Request, content: bytes) -> httpx.Request:
        """The request `template` stands for, with `content` as its body."""
        return self._httpx.Request(
            template.method,
            template.url,
            headers=template.headers,
            content=content,
            extensions=template.extensions,
        )

    def _finish(
        self,
        response: httpx.Response,
        template: httpx.Request,
        content: bytes,
        request: httpx.Request | None,
    ) -> httpx.Response:
        """The answer read (and decoded) as `httpx.Client.request` leaves it."""
        if request is not None:
            response.request = request
        response.default_encoding = self._http._default_encoding
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        if "set-cookie" in response.headers:
            if request is None:
                response.request = self._sent(template, content)
            self._http.cookies.extract_cookies(response)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                'HTTP Request: %s %s "%s %d %s"',
                template.method,
                template.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    def _close_connections(self) -> None:
        # Waits for a call in flight on another thread, but not forever: a lock held across a
        # fork by a thread the child does not have is never released (closing the socket under
        # a call makes it fail with httpx.ReadError, which is retried).
        locked = self._lock.acquire(timeout=CLOSE_WAIT_S)
        try:
            for connection in self._connections.values():
                connection.close()
            self._connections.clear()
        finally:
            if locked:
                self._lock.release()

    def close(self) -> None:
        """Close the connections of its own (the `httpx.Client` belongs to the `ApiClient` that
        made it)."""
        self._close_connections()


_MISSING = object()
_LENGTH = (b"Content-Length", b"1")
"""A body's length, as each call's request has one (last, where httpx puts it)."""
