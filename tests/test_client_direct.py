"""The log and label POSTs sent through the httpx transport directly (`vigil.client.direct`) are
the requests `httpx.Client.request` sends, and give the same answers and errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, cast

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from vigil.api.http import ApiClient, UnavailableError
from vigil.api.routes.ingest import IngestRoutes
from vigil.api.specs import IngestResult
from vigil.client import Client
from vigil.client.direct import MAX_ROUTES, DirectHttp
from vigil.errors import VigilError

URL = "http://vigil.test:8123/base"
ANSWER = {"batch_id": "b1", "duplicate": False, "n_rows": 10, "n_profiles": 1, "windows": []}

Handler = Callable[[httpx.Request], httpx.Response]


def _routes(http: httpx.Client, direct: bool, retries: int | None = 2) -> IngestRoutes:
    under: Any = DirectHttp(http) if direct else http
    return IngestRoutes(ApiClient(URL, "vgl_token", http=under, retries=retries, backoff=0.0))


def _seen(handler: Handler) -> tuple[list[httpx.Request], httpx.Client]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return handler(request)

    return seen, httpx.Client(base_url=URL, timeout=7.5, transport=httpx.MockTransport(record))


def _outcome(routes: IngestRoutes, kind: str, model: str, body: bytes) -> Any:
    try:
        return routes.send(kind, model, body)  # type: ignore[arg-type]
    except VigilError as exc:
        return type(exc), str(exc), exc.details


def _request_facts(request: httpx.Request) -> tuple[Any, ...]:
    return (
        request.method,
        str(request.url),
        request.headers.raw,
        request.content,
        request.extensions,
    )


def _both(handler: Handler, kind: str, model: str, body: bytes) -> tuple[Any, Any]:
    """(outcome, requests) of the normal path and of the direct path."""
    out = []
    for direct in (False, True):
        seen, http = _seen(handler)
        with http:
            outcome = _outcome(_routes(http, direct), kind, model, body)
        out.append((outcome, [_request_facts(r) for r in seen]))
    return out[0], out[1]


def _answer(status: int, payload: Any = None, text: str | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text)
        return httpx.Response(status, json=ANSWER if payload is None else payload)

    return handler


ERRORS = [
    (401, {"error": "authentication_failed", "message": "bad token", "details": {}}),
    (403, {"error": "permission_denied", "message": "needs scope 'write'", "details": {}}),
    (404, {"error": "not_found", "message": "no model 'x'", "details": {"model": "x"}}),
    (413, {"error": "payload_too_large", "message": "too big", "details": {}}),
    (422, {"error": "invalid_input", "message": "bad", "details": {"column": "a"}}),
    (400, ["not", "an", "object"]),
]


@pytest.mark.parametrize("kind", ["log", "labels"])
def test_the_direct_path_sends_the_same_request_and_reads_the_same_answer(kind: str) -> None:
    normal, direct = _both(_answer(200), kind, "churn", b"\x00body")
    assert normal == direct
    outcome, requests = direct
    assert outcome == IngestResult.model_validate(ANSWER)
    [(method, url, headers, content, extensions)] = requests
    assert (method, url, content) == ("POST", f"{URL}/api/v1/models/churn/{kind}", b"\x00body")
    assert (b"Authorization", b"Bearer vgl_token") in headers
    assert extensions["timeout"] == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}


@pytest.mark.parametrize(("status", "payload"), ERRORS)
def test_refusals_raise_the_same_errors(status: int, payload: Any) -> None:
    normal, direct = _both(_answer(status, payload), "log", "churn", b"x")
    assert normal == direct
    assert isinstance(direct[0], tuple)
    assert issubclass(direct[0][0], VigilError)


def test_a_non_json_error_answer_raises_the_same_error() -> None:
    normal, direct = _both(_answer(400, text="<html>oops</html>"), "log", "m", b"x")
    assert normal == direct
    assert "oops" in direct[0][1]


def test_retries_then_unavailable_the_same_way() -> None:
    normal, direct = _both(_answer(503, text="busy"), "log", "m", b"x")
    assert normal == direct
    assert direct[0][0] is UnavailableError
    assert len(direct[1]) == 3
    assert "failed 3 time(s): HTTP 503: busy" in direct[0][1]

    answers = iter([httpx.Response(429), httpx.Response(500), httpx.Response(200, json=ANSWER)])

    def flaky(request: httpx.Request) -> httpx.Response:
        return next(answers)

    seen, http = _seen(flaky)
    assert _routes(http, True).send("log", "m", b"x").batch_id == "b1"
    assert len(seen) == 3


def test_connection_errors_are_retried_and_reported_the_same_way() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    normal, direct = _both(refuse, "log", "m", b"x")
    assert normal == direct
    assert direct[0][0] is UnavailableError
    assert "ConnectError: connection refused" in direct[0][1]


@settings(max_examples=60, deadline=None)
@given(
    model=hs.text(min_size=1, max_size=20),
    kind=hs.sampled_from(["log", "labels"]),
    body=hs.binary(max_size=300),
    status=hs.sampled_from([200, 200, 400, 401, 404, 409, 422, 429, 500, 502]),
)
def test_any_call_is_sent_and_answered_alike(
    model: str, kind: str, body: bytes, status: int
) -> None:
    payload = ANSWER if status == 200 else {"error": "x", "message": f"no {model}", "details": {}}
    normal, direct = _both(_answer(status, payload), kind, model, body)
    assert normal == direct
    assert len(direct[1]) == (3 if status in (429, 500, 502) else 1)


def test_templates_past_the_limit_are_built_again() -> None:
    seen, http = _seen(_answer(200))
    routes = _routes(http, True)
    for i in range(MAX_ROUTES + 5):
        routes.send("log", f"m{i}", b"x")
    assert [str(r.url).rsplit("/", 2)[1] for r in seen] == [f"m{i}" for i in range(MAX_ROUTES + 5)]
    direct = cast(DirectHttp, routes.http._http)
    assert len(direct._templates) <= MAX_ROUTES


def test_layers_with_work_to_do_take_httpx_client_send() -> None:
    hooked: list[str] = []
    seen, http = _seen(_answer(200))
    http.event_hooks = {"request": [lambda r: hooked.append(str(r.url))], "response": []}
    direct = DirectHttp(http)
    assert not direct.direct()
    _routes(http, True).send("log", "m", b"x")
    assert hooked == [f"{URL}/api/v1/models/m/log"]

    seen, http = _seen(_answer(200))
    http.cookies.set("session", "abc")
    assert not DirectHttp(http).direct()
    _routes(http, True).send("log", "m", b"x")
    assert seen[-1].headers["Cookie"] == "session=abc"

    seen, http = _seen(_answer(200))
    assert DirectHttp(http).direct()
    http.auth = httpx.BasicAuth("a", "b")
    assert not DirectHttp(http).direct()


def test_default_headers_or_timeout_changed_later_are_sent_as_httpx_sends_them() -> None:
    seen, http = _seen(_answer(200))
    routes = _routes(http, True)
    routes.send("log", "m", b"x")
    http.headers["X-Trace"] = "abc"
    http.timeout = httpx.Timeout(2.0)
    routes.send("log", "m", b"x")
    assert seen[-1].headers["X-Trace"] == "abc"
    assert seen[-1].extensions["timeout"]["read"] == 2.0
    normal_seen, normal_http = _seen(_answer(200))
    normal_http.headers["X-Trace"] = "abc"
    normal_http.timeout = httpx.Timeout(2.0)
    _routes(normal_http, False).send("log", "m", b"x")
    assert _request_facts(seen[-1]) == _request_facts(normal_seen[-1])


def test_a_cookie_set_by_the_server_is_kept_as_httpx_keeps_it() -> None:
    def setting(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=ANSWER, headers={"Set-Cookie": "lb=node2; Path=/"})

    for direct in (False, True):
        seen, http = _seen(setting)
        routes = _routes(http, direct)
        routes.send("log", "m", b"x")
        assert http.cookies.get("lb") == "node2"
        routes.send("log", "m", b"x")  # the cookie goes back, now through httpx.Client
        assert seen[-1].headers["Cookie"] == "lb=node2"


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[tuple[str, str, list[tuple[str, str]], bytes]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append((self.command, self.path, list(self.headers.items()), body))
        payload = ANSWER if self.status == 200 else {"error": "not_found", "message": "none"}
        answer = json.dumps(payload).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"requests": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_over_a_socket_the_bytes_sent_are_the_same(recorder: tuple[str, type[_Recorder]]) -> None:
    url, handler = recorder
    answers = []
    for direct in (False, True):
        with httpx.Client(base_url=url, timeout=5) as http:
            under: Any = DirectHttp(http) if direct else http
            routes = IngestRoutes(ApiClient(url, "vgl_t", http=under, retries=1, backoff=0))
            answers.append([routes.send("log", "a b/c", b"\x01" * 50) for _ in range(3)])
            handler.status = 404
            with pytest.raises(VigilError, match="none") as caught:
                routes.send("labels", "m", b"x")
            answers.append(type(caught.value))
            handler.status = 200
    assert answers[0] == answers[2]
    assert answers[1] == answers[3]
    first, second = handler.requests[:4], handler.requests[4:]
    assert first == second
    assert first[0][1] == "/api/v1/models/a%20b%2Fc/log"


def test_the_http_client_sends_log_calls_the_direct_way(
    recorder: tuple[str, type[_Recorder]], tmp_path: Any
) -> None:
    url, handler = recorder
    with Client(url, token="vgl_t", spool_dir=None) as client:
        direct = client._transport.ingest.http._http  # type: ignore[attr-defined]
        assert isinstance(direct, DirectHttp)
        assert direct.direct()
        result = client._transport.send("log", "m", b"body")
        assert result == IngestResult.model_validate(ANSWER)
    [(method, path, headers, body)] = handler.requests
    assert (method, path, body) == ("POST", "/api/v1/models/m/log", b"body")
    assert ("Authorization", "Bearer vgl_t") in headers
