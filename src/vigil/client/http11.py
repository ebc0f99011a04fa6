"""One kept-alive HTTP/1.1 connection over a socket (or TLS with the httpx client's own SSL
context) for `DirectHttp`'s log and label POSTs.

httpx's transport spends about 0.3 ms of CPU on a small POST in httpcore's pool and its layers,
as much as profiling a 10-row call. This drives the very parser httpcore drives, an
`h11.Connection` (h11 writes the request and reads the answer: its grammar, framing and limits,
so an answer is read as httpx reads it by construction), over a socket of its own, and does the
connection handling as httpcore's `HTTP11Connection` does: the same socket set-up (TCP_NODELAY;
TLS with ALPN "http/1.1" and SNI), the same timeouts per connect, read and write, the same
exceptions (`httpx.ConnectError`, `httpx.ReadTimeout`, `httpx.RemoteProtocolError`...), a
response read after a failed write (a server may refuse a body before reading it), an idle
connection dropped when the server closed it or it outlived the pool's keep-alive expiry.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h11

if TYPE_CHECKING:
    from types import ModuleType

MAX_HEAD_BYTES = 100 * 1024
"""The most an answer's incomplete event (its head, a chunk header) may take (httpcore's)."""
READ_BYTES = 64 * 1024
"""Bytes asked of each `recv` (httpcore's)."""


def valid_request(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether h11 writes this request as it is (h11's own check: a token for each header
    name, values without control characters, line breaks or surrounding whitespace...); when
    not, httpx's transport sends it (and raises `httpx.LocalProtocolError` as before)."""
    try:
        h11.Request(method=method, target=target, headers=headers)
    except h11.LocalProtocolError:
        return False
    return True


def valid_header(name: bytes, value: bytes) -> bool:
    """Whether h11 writes this request header as it is."""
    return valid_request(b"POST", b"/", [(b"Host", b"h"), (name, value)])


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect (TLS included), per read and per write; None: no limit."""

    connect: float | None
    read: float | None
    write: float | None


@dataclass(frozen=True)
class Answer:
    """A response as read off the connection: the body still content-encoded."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    version: bytes
    """As httpcore reports it: b"HTTP/1.1"."""


class Http11Connection:
    """A connection to one origin that sends whole requests and reads their answers, one at a
    time (the caller serialises its use), reconnecting when the last one cannot be reused."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        timeouts: Timeouts,
        keepalive_expiry: float | None,
        errors: ModuleType,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.timeouts = timeouts
        self.keepalive_expiry = keepalive_expiry
        self._errors = errors  # httpx: its exception classes are what callers catch
        self._sock: socket.socket | None = None
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._pid = 0
        self._idle_since = 0.0

    def exchange(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Answer:
        """Send a request (`headers` with the body's Content-Length) and read its answer."""
        sock = self._ready()
        state = self._h11
        try:
            answer = self._exchange(sock, state, method, target, headers, body)
        except BaseException:
            self.close()  # a half-sent request or half-read answer: the connection is lost
            raise
        # As httpcore: reused when both sides are done (not "Connection: close", not
        # HTTP/1.0, not read up to the close) and nothing came past the answer.
        if (
            state.our_state is h11.DONE
            and state.their_state is h11.DONE
            and not state.trailing_data[0]
        ):
            state.start_next_cycle()
            self._idle_since = time.monotonic()
        else:
            self.close()
        return answer

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _ready(self) -> socket.socket:
        sock = self._sock
        if sock is not None and (
            self._pid != os.getpid()  # a forked child: the socket is its parent's
            or (
                self.keepalive_expiry is not None
                and time.monotonic() - self._idle_since > self.keepalive_expiry
            )
            or _readable(sock)  # idle and readable: the server closed it
        ):
            self.close()
            sock = None
        if sock is None:
            sock = self._connect()
            self._sock = sock
            self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
            self._pid = os.getpid()
        return sock

    def _connect(self) -> socket.socket:
        errors = self._errors
        timeout = self.timeouts.connect
        try:
            sock = socket.create_connection((self.host, self.port), timeout)
        except TimeoutError as exc:
            raise errors.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise errors.ConnectError(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                self.ssl_context.set_alpn_protocols(["http/1.1"])  # as httpcore sets it
                sock.settimeout(timeout)
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except TimeoutError as exc:
            sock.close()
            raise errors.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            sock.close()
            raise errors.ConnectError(str(exc)) from exc
        except BaseException:
            sock.close()
            raise
        return sock

    def _exchange(
        self,
        sock: socket.socket,
        state: h11.Connection,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> Answer:
        errors = self._errors
        try:
            head = state.send(h11.Request(method=method, target=target, headers=headers))
            framed = state.send_with_data_passthrough(h11.Data(data=body))
            end = state.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise errors.LocalProtocolError(str(exc)) from exc
        try:
            _limit(sock, self.timeouts.write)
            # One write: the head and a small body in one segment (framed is [body] with a
            # Content-Length, which h11 checks the body against; None only for a close).
            sock.sendall(b"".join([head or b"", *(framed or ()), end or b""]))
        except TimeoutError as exc:
            raise errors.WriteTimeout(str(exc)) from exc
        except OSError:
            # As httpcore: a server may refuse a request before reading its body, answer and
            # close; the answer is read, and if there is none, reading says why.
            pass
        _limit(sock, self.timeouts.read)
        return _Reader(sock, state, errors).answer()


class _Reader:
    """Reads one answer off a socket through h11, raising httpx's exceptions as httpcore's
    `HTTP11Connection` would."""

    def __init__(self, sock: socket.socket, state: h11.Connection, errors: Any) -> None:
        self._sock = sock
        self._state = state
        self._errors = errors

    def answer(self) -> Answer:
        """The final answer (informational ones skipped), its body read whole."""
        while True:
            event = self._event()
            if isinstance(event, h11.Response):
                break
            if isinstance(event, h11.InformationalResponse) and event.status_code == 101:
                raise self._broken("the server switched protocols, which a POST did not ask for")
        parts: list[bytes] = []
        while True:
            part = self._event()
            if isinstance(part, h11.Data):
                parts.append(bytes(part.data))
            elif isinstance(part, h11.EndOfMessage):
                break
            else:  # pragma: no cover - h11 yields only these in a response's body
                raise self._broken(f"unexpected {type(part).__name__} in a response body")
        return Answer(
            event.status_code,
            bytes(event.reason),
            event.headers.raw_items(),
            b"".join(parts),
            b"HTTP/" + bytes(event.http_version),
        )

    def _event(self) -> Any:
        """h11's next event, fed what the socket has until there is one (httpcore's
        `_receive_event`)."""
        state = self._state
        while True:
            try:
                event = state.next_event()
            except h11.RemoteProtocolError as exc:
                raise self._broken(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                data = self._sock.recv(READ_BYTES)
            except TimeoutError as exc:
                raise self._errors.ReadTimeout(str(exc)) from exc
            except OSError as exc:
                raise self._errors.ReadError(str(exc)) from exc
            if not data and state.their_state is h11.SEND_RESPONSE:
                raise self._broken("Server disconnected without sending a response.")
            try:
                state.receive_data(data)
            except h11.RemoteProtocolError as exc:  # pragma: no cover - data after a close
                raise self._broken(str(exc)) from exc

    def _broken(self, message: str) -> Exception:
        error: Exception = self._errors.RemoteProtocolError(message)
        return error


def _limit(sock: socket.socket, timeout: float | None) -> None:
    """`sock.settimeout(timeout)`, unless it is set already (each call is a system call)."""
    if sock.gettimeout() != timeout:
        sock.settimeout(timeout)


def _readable(sock: socket.socket) -> bool:
    """Whether an idle socket has something to read (which can only be the server's close)."""
    poll = getattr(select, "poll", None)
    if poll is None:  # pragma: no cover - Windows
        return bool(select.select([sock], [], [], 0)[0])
    poller = poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
