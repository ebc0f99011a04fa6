"""The kept-alive connection of the log and label POSTs (`vigil.client.http11`, used by
`vigil.client.direct`): it sends the bytes httpx sends, reads any answer as httpx reads it, and
fails, reconnects and retries as httpx's transport does."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import trustme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from vigil.api.http import ApiClient, UnavailableError
from vigil.api.routes.ingest import IngestRoutes
from vigil.api.specs import IngestResult
from vigil.client.direct import DirectHttp
from vigil.client.http11 import Http11Connection, valid_header
from vigil.errors import PayloadTooLargeError

ANSWER = {"batch_id": "b1", "duplicate": False, "n_rows": 10, "n_profiles": 1, "windows": []}
OK = json.dumps(ANSWER).encode()

Script = Callable[[socket.socket, bytes, int], bool]
"""What the server does with one request (its raw bytes, its number): True to keep the
connection open for the next one."""


def _answer(body: bytes = OK, status: str = "200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n\r\n%s" % (
        status.encode(),
        extra,
        len(body),
        body,
    )


def _plain(conn: socket.socket, request: bytes, number: int) -> bool:
    conn.sendall(_answer())
    return True


class Server:
    """A socket server that reads whole requests (Content-Length bodies) and runs a script."""

    def __init__(self, script: Script, context: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.context = context
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.context else 'http'}://localhost:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                if self.script is _early:
                    body = b""
                else:
                    while len(buffer) < length:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buffer += data
                    body, buffer = buffer[:length], buffer[length:]
                self.requests.append(head + b"\r\n\r\n" + body)
                if not self.script(conn, self.requests[-1], len(self.requests)):
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._listener.close()


def _early(conn: socket.socket, request: bytes, number: int) -> bool:
    """Refuses the body unread, answers and closes."""
    conn.sendall(_answer(b'{"error": "payload_too_large", "message": "too big"}', "413 Too Big"))
    conn.shutdown(socket.SHUT_WR)
    return False


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def start(script: Script = _plain, context: ssl.SSLContext | None = None) -> Server:
        made.append(Server(script, context))
        return made[-1]

    yield start
    for server in made:
        server.close()


def _routes(http: httpx.Client, *, retries: int | None = 2) -> IngestRoutes:
    direct: Any = DirectHttp(http)
    return IngestRoutes(
        ApiClient(str(http.base_url), "vgl_t", http=direct, retries=retries, backoff=0.0)
    )


def _connection(routes: IngestRoutes) -> Http11Connection | None:
    direct: DirectHttp = routes.http._http  # type: ignore[assignment]
    [route] = direct._templates.values()
    return route.connection


def test_log_calls_go_over_one_kept_alive_connection(serve: Callable[..., Server]) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        routes = _routes(http)
        results = [routes.send("log", "m", b"\x00" * 10) for _ in range(3)]
        assert _connection(routes) is not None
    assert results == [IngestResult.model_validate(ANSWER)] * 3
    assert server.connections == 1
    assert len(server.requests) == 3


def test_the_bytes_sent_are_the_bytes_httpx_sends(serve: Callable[..., Server]) -> None:
    server = serve()
    with httpx.Client(base_url=server.url + "/base", timeout=5, headers={"X-Team": "ml"}) as http:
        for direct in (False, True):
            under: Any = DirectHttp(http) if direct else http
            routes = IngestRoutes(ApiClient(server.url, "vgl_t", http=under, retries=0))
            routes.send("log", "a b/c", b"\x01body")
            routes.send("labels", "m", b"x" * 70_000)
    assert len(server.requests) == 4
    assert server.requests[:2] == server.requests[2:]
    assert server.requests[0].startswith(
        b"POST /base/api/v1/models/a%20b%2Fc/log HTTP/1.1\r\nHost: "
    )


def _replay(answer: bytes, *, keep: bool = False) -> Script:
    def script(conn: socket.socket, request: bytes, number: int) -> bool:
        conn.sendall(answer)
        if not keep:
            conn.shutdown(socket.SHUT_WR)
        return keep

    return script


def _both(
    serve: Callable[..., Server], answer: bytes, sent: Callable[[bytes], Any] | None = None
) -> list[Any]:
    """The answer to one POST as httpx.Client reads it and as the direct connection reads it
    (status, headers, body; or the type of the error raised); the server sends it as `sent`
    makes it (`_replay`, by default)."""
    out: list[Any] = []
    for direct in (False, True):
        server = serve((sent or _replay)(answer))
        with httpx.Client(base_url=server.url, timeout=5) as http:
            under: Any = DirectHttp(http) if direct else http
            try:
                response = under.request("POST", "/x", content=b"body")
                out.append((response.status_code, response.headers.raw, response.content))
            except httpx.TransportError as exc:
                out.append(type(exc))
            if direct:
                assert under._templates  # the direct way was taken
                [route] = under._templates.values()
                assert route.connection is not None
    return out


ANSWERS = [
    _answer(),
    _answer(status="404 Not Found"),
    _answer(status="200"),  # no reason phrase
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 3\nX-Folded: a\n  b\n\nabc",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
    % (len(gzip.compress(OK)), gzip.compress(OK)),
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # closed early
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nab",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n",  # closed inside the headers
    b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"SMTP ready\r\n\r\n",
    b"",  # closed without a word
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_any_answer_is_read_as_httpx_reads_it(serve: Callable[..., Server], answer: bytes) -> None:
    normal, direct = _both(serve, answer)
    assert normal == direct


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=hs.sampled_from([200, 201, 400, 404, 413, 500, 503]),
    body=hs.binary(max_size=3000),
    framing=hs.sampled_from(["length", "chunked", "close"]),
    sizes=hs.lists(hs.integers(1, 500), min_size=1, max_size=5),
    headers=hs.lists(
        hs.tuples(
            hs.sampled_from(["X-A", "x-b", "Set-Thing", "Vary"]),
            hs.text("abcdefghijklmnopqrstuvwxyz0123456789 ,;=", max_size=20),
        ),
        max_size=4,
    ),
)
def test_generated_answers_are_read_as_httpx_reads_them(
    serve: Callable[..., Server],
    status: int,
    body: bytes,
    framing: str,
    sizes: list[int],
    headers: list[tuple[str, str]],
) -> None:
    head = b"HTTP/1.1 %d Whatever\r\n" % status
    head += b"".join(b"%s: %s\r\n" % (n.encode(), v.strip().encode()) for n, v in headers)
    if framing == "length":
        answer = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    elif framing == "chunked":
        chunks, rest = [], body
        for size in sizes * 20:
            if not rest:
                break
            chunks.append(b"%x\r\n%s\r\n" % (len(rest[:size]), rest[:size]))
            rest = rest[size:]
        if rest:
            chunks.append(b"%x\r\n%s\r\n" % (len(rest), rest))
        answer = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(chunks) + b"0\r\n\r\n"
    else:
        answer = head + b"\r\n" + body
    normal, direct = _both(serve, answer)
    assert normal == direct
    assert normal[2] == body


def test_a_connection_the_server_closed_while_idle_is_replaced(
    serve: Callable[..., Server],
) -> None:
    def close_after(conn: socket.socket, request: bytes, number: int) -> bool:
        conn.sendall(_answer())
        return False  # closes after each answer, without saying so

    server = serve(close_after)
    with httpx.Client(base_url=server.url, timeout=5) as http:
        routes = _routes(http, retries=0)  # a failure would not be retried
        for _ in range(3):
            routes.send("log", "m", b"x")
            connection = _connection(routes)
            assert connection is not None
            sock = connection._sock
            assert sock is not None
            # wait until the server's close reached us, as it does while a client is idle
            sock.settimeout(5)
            assert sock.recv(1, socket.MSG_PEEK) == b""
    assert server.connections == 3
    assert len(server.requests) == 3


def test_connection_close_and_http_1_0_answers_are_not_reused(
    serve: Callable[..., Server],
) -> None:
    for answer in (
        _answer(extra=b"Connection: close\r\n"),
        _answer().replace(b"HTTP/1.1", b"HTTP/1.0"),
    ):
        server = serve(_replay(answer, keep=True))
        with httpx.Client(base_url=server.url, timeout=5) as http:
            routes = _routes(http, retries=0)
            routes.send("log", "m", b"x")
            connection = _connection(routes)
            assert connection is not None
            assert connection._sock is None
            routes.send("log", "m", b"x")
        assert server.connections == 2


def test_a_dropped_request_is_retried_on_a_new_connection(serve: Callable[..., Server]) -> None:
    def drop_first(conn: socket.socket, request: bytes, number: int) -> bool:
        if number == 1:
            return False  # closes without an answer
        conn.sendall(_answer())
        return True

    server = serve(drop_first)
    with httpx.Client(base_url=server.url, timeout=5) as http:
        assert _routes(http).send("log", "m", b"x").batch_id == "b1"
    serve_all = serve(lambda conn, request, number: False)  # every attempt dropped
    with httpx.Client(base_url=serve_all.url, timeout=5) as other:
        routes = _routes(other)
        with pytest.raises(UnavailableError, match="RemoteProtocolError: Server disconnected"):
            routes.send("log", "m", b"x")
    assert server.connections == 2
    assert serve_all.connections == 3


def test_an_answer_before_the_body_is_read(serve: Callable[..., Server]) -> None:
    server = serve(_early)
    with (
        httpx.Client(base_url=server.url, timeout=5) as http,
        pytest.raises(PayloadTooLargeError, match="too big"),
    ):
        _routes(http).send("log", "m", b"x" * (8 << 20))


def test_timeouts_and_refusals_raise_httpx_errors(serve: Callable[..., Server]) -> None:
    silent = threading.Event()

    def never(conn: socket.socket, request: bytes, number: int) -> bool:
        silent.wait(5)
        return False

    server = serve(never)
    with httpx.Client(base_url=server.url, timeout=0.2) as http:
        with pytest.raises(UnavailableError, match="ReadTimeout"):
            _routes(http, retries=1).send("log", "m", b"x")
        direct = DirectHttp(http)
        with pytest.raises(httpx.ReadTimeout) as caught:
            direct.request("POST", "/x", content=b"x")
        assert caught.value.request.url == httpx.URL(server.url + "/x")
    silent.set()
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=1) as http:
        with pytest.raises(httpx.ConnectError):
            DirectHttp(http).request("POST", "/x", content=b"x")
        with pytest.raises(UnavailableError, match="ConnectError"):
            _routes(http, retries=1).send("log", "m", b"x")


def test_tls_uses_the_clients_ssl_context(serve: Callable[..., Server]) -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    server = serve(_plain, server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    with httpx.Client(base_url=server.url, timeout=5, verify=trusting) as http:
        routes = _routes(http, retries=0)
        assert [routes.send("log", "m", b"x").batch_id for _ in range(2)] == ["b1", "b1"]
        connection = _connection(routes)
        assert connection is not None
        assert isinstance(connection._sock, ssl.SSLSocket)
    assert server.connections == 1
    with httpx.Client(base_url=server.url, timeout=5) as http:  # the system's CAs: refused
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            DirectHttp(http).request("POST", "/x", content=b"x")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            http.request("POST", "/x", content=b"x")


def test_proxies_and_other_transports_go_through_httpx(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve()
    proxied = serve()  # answers as a proxy would, for a request to any URL
    cases = [
        httpx.Client(base_url=server.url, proxy=proxied.url),
        httpx.Client(base_url=server.url, mounts={"all://": httpx.HTTPTransport()}),
        httpx.Client(base_url=server.url, http2=False, transport=httpx.HTTPTransport(retries=2)),
        httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address="0.0.0.0")),
    ]
    monkeypatch.setenv("HTTP_PROXY", proxied.url)
    cases.append(httpx.Client(base_url=server.url))
    for http in cases:
        with http:
            routes = _routes(http, retries=0)
            assert routes.send("log", "m", b"x").batch_id == "b1"
            assert _connection(routes) is None
    assert len(proxied.requests) == 2
    assert proxied.requests[0].startswith(b"POST http://localhost:")


def test_headers_h11_would_refuse_go_through_httpx(serve: Callable[..., Server]) -> None:
    assert valid_header(b"Authorization", b"Bearer vgl_x")
    assert not valid_header(b"Authorization", b"Bearer a\r\nX-Evil: 1")
    assert not valid_header(b"Bad Name", b"x")
    assert not valid_header(b"X", b" padded ")
    server = serve()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        routes = IngestRoutes(ApiClient(server.url, "a\nb", http=DirectHttp(http), retries=0))  # type: ignore[arg-type]
        with pytest.raises(UnavailableError, match="LocalProtocolError"):
            routes.send("log", "m", b"x")
    assert server.requests == []


def test_concurrent_calls_share_out_the_connection(serve: Callable[..., Server]) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        routes = _routes(http, retries=0)
        results: list[str] = []

        def send() -> None:
            for _ in range(20):
                results.append(routes.send("log", "m", b"x").batch_id)

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == ["b1"] * 80
    assert len(server.requests) == 80


def test_a_forked_child_or_an_expired_connection_connects_anew(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        routes = _routes(http, retries=0)
        routes.send("log", "m", b"x")
        routes.send("log", "m", b"x")
        assert server.connections == 1
        monkeypatch.setattr("os.getpid", lambda: -1)
        routes.send("log", "m", b"x")
        assert server.connections == 2
        connection = _connection(routes)
        assert connection is not None
        connection._idle_since -= 3600  # idle past the pool's keep-alive expiry (5 s)
        routes.send("log", "m", b"x")
        assert server.connections == 3


def test_closing_the_transport_closes_the_connection(serve: Callable[..., Server]) -> None:
    from vigil.client.transport import HttpTransport

    server = serve()
    transport = HttpTransport(server.url, "vgl_t", timeout=5, retries=0, backoff=0)
    transport.send("log", "m", b"x")
    connection = _connection(transport.ingest)
    assert connection is not None
    assert connection._sock is not None
    transport.close()
    assert connection._sock is None


def test_a_lock_left_held_neither_hangs_closing_nor_stops_calls(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vigil.client.direct.CLOSE_WAIT_S", 0.05)
    server = serve()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        direct = DirectHttp(http)
        assert direct.request("POST", "/x", content=b"x").status_code == 200
        [connection] = direct._connections.values()
        direct._lock.acquire()  # as a fork leaves it: held by a thread the child does not have
        direct.close()
        assert connection._sock is None
        # calls go through httpx's transport meanwhile
        assert direct.request("POST", "/x", content=b"x").status_code == 200
        assert connection._sock is None
    assert len(server.requests) == 2


def _dribble(answer: bytes) -> Script:
    """Sends the answer a few bytes at a time, each its own segment, then closes."""

    def script(conn: socket.socket, request: bytes, number: int) -> bool:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(answer), 3):
            conn.sendall(answer[start : start + 3])
            time.sleep(0.0005)
        conn.shutdown(socket.SHUT_WR)
        return False

    return script


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a][:12])
def test_an_answer_arriving_in_pieces_is_read_whole(
    serve: Callable[..., Server], answer: bytes
) -> None:
    normal, direct = _both(serve, answer, _dribble)
    assert normal == direct


def test_a_chunked_answer_keeps_the_connection(serve: Callable[..., Server]) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        len(OK),
        OK,
    )
    server = serve(_replay(chunked, keep=True))
    with httpx.Client(base_url=server.url, timeout=5) as http:
        routes = _routes(http, retries=0)
        assert [routes.send("log", "m", b"x").batch_id for _ in range(3)] == ["b1"] * 3
    assert server.connections == 1


def test_long_answers_are_read_whole(serve: Callable[..., Server]) -> None:
    body = bytes(range(256)) * (6 * 4096)  # 6 MiB, in many reads
    for answer in (
        b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
        b"HTTP/1.1 500 Oops\r\n\r\n" + body,  # up to the close
    ):
        normal, direct = _both(serve, answer)
        assert normal == direct
        assert direct[2] == body


def test_a_chunked_body_whose_last_empty_line_comes_alone(serve: Callable[..., Server]) -> None:
    def split(conn: socket.socket, request: bytes, number: int) -> bool:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n")
        time.sleep(0.05)
        conn.sendall(b"\r\n")  # no trailers: the empty line ends the body
        return True  # and the connection stays open

    server = serve(split)
    with httpx.Client(base_url=server.url, timeout=2) as http:
        direct = DirectHttp(http)
        for _ in range(2):
            assert direct.request("POST", "/x", content=b"x").content == b"abc"
    assert server.connections == 1
