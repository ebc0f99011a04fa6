"""One kept-alive HTTP/1.1 connection over a socket (or TLS with the httpx client's own SSL
context) for `DirectHttp`'s log and label POSTs.

httpx's transport spends about 0.3 ms of CPU on a small POST in httpcore's pool and h11's state
machine, as much as profiling a 10-row call. This sends the very bytes h11 writes for the request
httpx builds (`DirectHttp` makes them from `httpx.Client.build_request`), and reads the answer as
httpcore does: the same socket set-up (TCP_NODELAY; TLS with ALPN "http/1.1" and SNI), the same
timeouts per connect, read and write, the same exceptions (`httpx.ConnectError`,
`httpx.ReadTimeout`, `httpx.RemoteProtocolError`...), a response read after a failed write (a
server may refuse a body before reading it), an idle connection dropped when the server closed it
or it outlived the pool's keep-alive expiry. The answer's framing follows RFC 9112 section 6.3:
no body for 1xx, 204 and 304, else chunked, else Content-Length, else up to the close.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

MAX_HEAD_BYTES = 100 * 1024
"""The most an answer's status line and headers may take (httpcore's h11 limit)."""
READ_BYTES = 64 * 1024
"""Bytes asked of each `recv` (httpcore's)."""

# The grammar h11 reads answers with (h11/_abnf.py), so that an answer httpx refuses is refused
# here, and one it takes is read to the same status, headers and body.
_END_OF_HEAD = re.compile(rb"\n\r?\n")
_VCHAR_OR_OBS = rb"[^\x00\s]"
_STATUS_LINE = re.compile(
    rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: ((?:[ \t]|" + _VCHAR_OR_OBS + rb")*))?"
)
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_FIELD_VALUE = re.compile(rb"(?:" + _VCHAR_OR_OBS + rb"+(?:[ \t]+" + _VCHAR_OR_OBS + rb"+)*)?")
_HEADER_FIELD = re.compile(
    rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*((?:"
    + _VCHAR_OR_OBS
    + rb"+(?:[ \t]+"
    + _VCHAR_OR_OBS
    + rb"+)*)?)[ \t]*"
)
_FOLD = re.compile(rb"[ \t]+")
_CHUNK_HEADER = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*\r\n")
_CONTENT_LENGTH = re.compile(rb"[0-9]+")
CONTENT_LENGTH_MAX_DIGITS = 20


def valid_header(name: bytes, value: bytes) -> bool:
    """Whether h11 writes this request header as it is (a token for a name, a value without
    control characters, line breaks or surrounding whitespace)."""
    return bool(_TOKEN.fullmatch(name) and _FIELD_VALUE.fullmatch(value))


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
        self._pid = 0
        self._idle_since = 0.0

    def exchange(self, request: bytes) -> Answer:
        """Send `request` (a whole HTTP/1.1 request with a framed body) and read its answer."""
        sock = self._ready()
        try:
            answer, reusable = self._exchange(sock, request)
        except BaseException:
            self.close()  # a half-sent request or half-read answer: the connection is lost
            raise
        if reusable:
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

    def _exchange(self, sock: socket.socket, request: bytes) -> tuple[Answer, bool]:
        errors = self._errors
        sent = True
        try:
            _limit(sock, self.timeouts.write)
            sock.sendall(request)
        except TimeoutError as exc:
            raise errors.WriteTimeout(str(exc)) from exc
        except OSError:
            # As httpcore: a server may refuse a request before reading its body, answer and
            # close; the answer is read, and if there is none, reading says why.
            sent = False
        _limit(sock, self.timeouts.read)
        reader = _Reader(sock, errors)
        answer, reusable = reader.answer()
        return answer, reusable and sent


class _Reader:
    """Reads one answer off a socket, raising httpx's exceptions as httpcore would."""

    def __init__(self, sock: socket.socket, errors: Any) -> None:
        self._sock = sock
        self._errors = errors
        self._buffer = b""
        self._eof = False
        self._received = 0

    def _more(self) -> bool:
        """Reads what the socket has next into the buffer; False at the end of the stream."""
        data = self._recv()
        self._buffer += data
        return bool(data)

    def _recv(self) -> bytes:
        """What the socket has next; b"" at the end of the stream."""
        if self._eof:
            return b""
        try:
            data = self._sock.recv(READ_BYTES)
        except TimeoutError as exc:
            raise self._errors.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise self._errors.ReadError(str(exc)) from exc
        if not data:
            self._eof = True
        self._received += len(data)
        return data

    def _gather(self, length: int | None) -> bool:
        """Reads until the buffer holds `length` bytes (None: up to the end of the stream),
        joining the pieces once (a long body added piece by piece would be copied over and
        over); False when the stream ended first."""
        parts = [self._buffer]
        have = len(self._buffer)
        while length is None or have < length:
            data = self._recv()
            if not data:
                break
            parts.append(data)
            have += len(data)
        self._buffer = b"".join(parts)
        return length is None or have >= length

    def _broken(self, message: str) -> Exception:
        error: Exception = self._errors.RemoteProtocolError(message)
        return error

    def answer(self) -> tuple[Answer, bool]:
        """The final answer (informational ones skipped) and whether the connection may be
        used again (h11's `_keep_alive` and `_body_framing`)."""
        while True:
            version, status, reason, headers = self._head()
            if status == 101:
                raise self._broken("the server switched protocols, which a POST did not ask for")
            if status >= 200:
                break
        connection = _comma_header(headers, b"connection")
        keep = b"close" not in connection and version >= b"1.1"
        if status in (204, 304):
            body = b""
        elif _comma_header(headers, b"transfer-encoding"):
            body = self._chunked()
        elif lengths := _comma_header(headers, b"content-length"):
            body = self._exactly(int(lengths[0]))
        else:
            body = self._to_the_end()
            keep = False
        if self._buffer:  # bytes past the answer: nothing was asked for them
            keep = False
        return Answer(status, reason, headers, body, b"HTTP/" + version), keep

    def _lines(self) -> list[bytes]:
        """The lines up to the next empty one (h11's `maybe_extract_lines`)."""
        while True:
            # An empty line first (as it may come, alone): no lines (checked on every read).
            if self._buffer[:2] == b"\r\n" or self._buffer[:1] == b"\n":
                self._buffer = self._buffer[2 if self._buffer[:1] == b"\r" else 1 :]
                return []
            found = _END_OF_HEAD.search(self._buffer)
            if found is not None:
                break
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise self._broken("Receive buffer too long")
            if not self._more():
                if self._received == 0:
                    raise self._broken("Server disconnected without sending a response.")
                raise self._broken("peer closed connection without sending complete headers")
        head = self._buffer[: found.start() + 1]
        self._buffer = self._buffer[found.end() :]
        lines = head.split(b"\n")[:-1]
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]

    def _head(self) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
        lines = self._lines()
        if not lines:
            raise self._broken("no response line received")
        status = _STATUS_LINE.fullmatch(lines[0])
        if status is None:
            raise self._broken(f"illegal status line: {lines[0][:100]!r}")
        version, code, reason = status.groups()
        return version, int(code), reason or b"", self._fields(lines[1:])

    def _fields(self, lines: list[bytes]) -> list[tuple[bytes, bytes]]:
        """Header lines as h11 reads them: continuation lines joined to the one before, each
        `name: value` checked, Content-Length values merged, Transfer-Encoding only chunked."""
        unfolded: list[bytes] = []
        for line in lines:
            fold = _FOLD.match(line)
            if fold is None:
                unfolded.append(line)
            elif not unfolded:
                raise self._broken("continuation line at start of headers")
            else:
                unfolded[-1] += b" " + line[fold.end() :]
        headers: list[tuple[bytes, bytes]] = []
        length: bytes | None = None
        chunked = False
        for line in unfolded:
            field = _HEADER_FIELD.fullmatch(line)
            if field is None:
                raise self._broken(f"illegal header line: {line[:100]!r}")
            name, value = field.groups()
            lower = name.lower()
            if lower == b"content-length":
                lengths = {part.strip() for part in value.split(b",")}
                if len(lengths) != 1:
                    raise self._broken("conflicting Content-Length headers")
                value = lengths.pop()
                if not _CONTENT_LENGTH.fullmatch(value) or len(value) > CONTENT_LENGTH_MAX_DIGITS:
                    raise self._broken("bad Content-Length")
                if length is not None:
                    if value != length:
                        raise self._broken("conflicting Content-Length headers")
                    continue
                length = value
            elif lower == b"transfer-encoding":
                if chunked:
                    raise self._broken("multiple Transfer-Encoding headers")
                value = value.lower()
                if value != b"chunked":
                    raise self._broken("Only Transfer-Encoding: chunked is supported")
                chunked = True
            headers.append((name, value))
        return headers

    def _exactly(self, length: int) -> bytes:
        if len(self._buffer) < length and not self._gather(length):
            raise self._broken(
                "peer closed connection without sending complete message body: "
                f"received {len(self._buffer)} bytes, expected {length}"
            )
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return body

    def _chunked(self) -> bytes:
        """A chunked body (h11's `ChunkedReader`: CRLF lines, chunk extensions ignored)."""
        parts: list[bytes] = []
        while True:
            while (end := self._buffer.find(b"\r\n")) < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise self._broken("Receive buffer too long")
                if not self._more():
                    raise self._broken(
                        "peer closed connection without sending complete message body "
                        "(incomplete chunked read)"
                    )
            line, self._buffer = self._buffer[: end + 2], self._buffer[end + 2 :]
            header = _CHUNK_HEADER.fullmatch(line)
            if header is None:
                raise self._broken(f"illegal chunk header: {line[:100]!r}")
            size = int(header.group(1), 16)
            if size == 0:
                self._fields(self._lines())  # the trailers, checked and dropped as httpx does
                return b"".join(parts)
            parts.append(self._exactly(size))
            if self._exactly(2) != b"\r\n":
                raise self._broken("malformed chunk footer")

    def _to_the_end(self) -> bytes:
        self._gather(None)
        body, self._buffer = self._buffer, b""
        return body


def _comma_header(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """The comma-separated values of header `name`, stripped and lowercased (h11's
    `get_comma_header`)."""
    return [
        part.strip().lower()
        for key, value in headers
        if key.lower() == name
        for part in value.split(b",")
        if part.strip()
    ]


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
