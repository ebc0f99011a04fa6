"""The outbound address policy (issue 14, point 5): refused at configuration through every way in
(API, monitors file, CLI, library), and at delivery on the address actually connected to, which is
the address checked (a second DNS answer is never used). Every connection stays on loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.monitor.receivers import http_receiver, smtp_receiver
from tests.server.conftest import auth, make_tokens
from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.errors import InvalidInputError
from vigil.events.channels.base import DeliveryError, post
from vigil.events.dispatch import deliver_events
from vigil.events.subscriptions import SubscriptionIn, create_subscription, list_deliveries
from vigil.monitor import Channel, Monitor, MonitorSettings
from vigil.outbound import (
    OutboundAddressError,
    OutboundPolicy,
    check_url,
    resolve,
    smtp_connection,
)
from vigil.server import Settings, create_app
from vigil.store.core import Store

# host as written in a URL -> the rule named in the refusal
REFUSED = {
    "127.0.0.1": "loopback",
    "localhost": "loopback",
    "0.0.0.0": "unspecified",
    "[::]": "unspecified",
    "[::1]": "loopback",
    "[::ffff:127.0.0.1]": "IPv4-mapped loopback",
    "[::ffff:10.0.0.1]": "IPv4-mapped private",
    "169.254.169.254": "link-local",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "[fc00::1]": "unique-local",
    "[fe80::1]": "link-local",
    "224.0.0.1": "multicast",
    "[64:ff9b::7f00:1]": "NAT64 loopback",
    "[2002:7f00:1::]": "6to4 loopback",
    "100.64.0.1": "non-global",
}
PUBLIC = "93.184.216.34"
"""A global address: only ever checked by the policy, never connected to."""


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, list[str]], list[str]]:
    """`fake_dns(name, answers)`: `name` resolves to answers[0], then answers[1]... (the last one
    repeats); every other name and literal resolves as usual. Returns the log of answers."""
    real = socket.getaddrinfo
    given: list[str] = []

    def install(name: str, answers: list[str]) -> list[str]:
        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host != name:
                return real(host, port, *args, **kwargs)
            answer = answers[min(len(given), len(answers) - 1)]
            given.append(answer)
            family = socket.AF_INET6 if ":" in answer else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answer, int(port or 0)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return given

    return install


@pytest.mark.parametrize(("host", "rule"), sorted(REFUSED.items()))
def test_each_refused_class_is_a_422_naming_the_rule_when_configured(
    sqlite_store: Store, host: str, rule: str
) -> None:
    tokens = make_tokens(sqlite_store)
    settings = Settings(store_url="sqlite://", artifacts_url="x", monitor_scheduler=False)
    app = create_app(settings, store=sqlite_store)
    url = f"http://{host}:8080/hook"
    admin = auth(tokens[Scope.ADMIN])
    with TestClient(app) as api:
        channel = {"name": "hook", "config": {"type": "webhook", "url": url}}
        answers = [
            api.put("/api/v1/channels/hook", json=channel, headers=admin),
            api.post(
                "/api/v1/monitors/apply",
                json={
                    "yaml": f"channels:\n  - name: hook\n    config: {{type: slack, url: '{url}'}}"
                },
                headers=admin,
            ),
            api.post("/api/v1/events/subscriptions", json={"name": "s", "url": url}, headers=admin),
        ]
        for answer in answers:
            assert answer.status_code == 422, answer.text
            body = answer.json()
            assert body["error"] == "outbound_address_refused"
            assert body["details"]["rule"] == rule
            assert f"({rule})" in body["message"]
        assert api.get("/api/v1/channels", headers=admin).json() == []
        assert api.get("/api/v1/events/subscriptions", headers=admin).json() == []


def test_email_and_pagerduty_hosts_are_checked_too(sqlite_store: Store) -> None:
    mail = {"type": "email", "host": "169.254.169.254", "sender": "a@b.c", "to": ["d@e.f"]}
    pager = {"type": "pagerduty", "routing_key": "k", "url": "https://[::1]/v2/enqueue"}
    for config, rule in ((mail, "link-local"), (pager, "loopback")):
        with pytest.raises(OutboundAddressError, match=rule):
            monitors.save_channel(
                sqlite_store, Channel.model_validate({"name": "c", "config": config})
            )
    assert monitors.list_channels(sqlite_store) == []


def test_the_cli_refuses_with_exit_2_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("VIGIL_OUTBOUND_ALLOW", "VIGIL_WEBHOOK_ALLOW_LOOPBACK"):
        monkeypatch.delenv(variable, raising=False)
    where = ["--store", f"sqlite:///{tmp_path / 'v.db'}", "--artifacts", str(tmp_path / "a")]
    monitors_file = tmp_path / "monitors.yaml"
    monitors_file.write_text(
        "channels:\n  - name: hook\n    config: {type: webhook, url: 'http://10.1.2.3/x'}\n"
    )
    assert main(["monitors", "apply", str(monitors_file), *where]) == 2
    assert "outbound address refused (private)" in capsys.readouterr().err
    assert main(["events", "subscribe", "s", "http://[::ffff:127.0.0.1]/x", *where]) == 2
    assert "(IPv4-mapped loopback)" in capsys.readouterr().err
    # The explicit setting allows it.
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "10.0.0.0/8")
    assert main(["monitors", "apply", str(monitors_file), *where]) == 0


def test_the_allow_list_is_explicit_and_covers_mapped_forms() -> None:
    strict = OutboundPolicy()
    assert strict.refusal(ipaddress.ip_address(PUBLIC)) is None
    assert strict.refusal(ipaddress.ip_address(f"::ffff:{PUBLIC}")) is None
    assert strict.refusal(ipaddress.ip_address("2606:2800:220:1::1")) is None
    loopback = OutboundPolicy.parse("127.0.0.0/8")
    assert loopback.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert loopback.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert loopback.refusal(ipaddress.ip_address("::1")) == "loopback"
    assert loopback.refusal(ipaddress.ip_address("10.0.0.1")) == "private"
    everything = OutboundPolicy.parse("*")
    assert everything.refusal(ipaddress.ip_address("0.0.0.0")) is None
    assert everything.refusal(ipaddress.ip_address("fe80::1")) is None
    with pytest.raises(InvalidInputError, match="'10.0.0.0/33'"):
        OutboundPolicy.parse("10.0.0.0/33")
    with pytest.raises(InvalidInputError, match="'nope'"):
        MonitorSettings(outbound_allow="127.0.0.0/8, nope")


def test_a_name_answering_one_refused_address_among_others_is_refused(
    fake_dns: Callable[[str, list[str]], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def two_answers(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "split.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(OutboundAddressError, match=r"\(private\).*10\.0\.0\.7"):
        resolve("split.test", 443, OutboundPolicy())


def _silence(store: Store, tmp_path: Path, channels: list[str], hours: int = 3) -> None:
    """A no_data monitor that fires on hour 1 and clears in hour 2: two notifications (one when
    evaluated for two hours only)."""
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 1))
    log_hours(client, range(2, 3))
    client.close()
    monitors.save_monitor(
        store,
        Monitor.model_validate(
            {"name": "silence", "kind": "no_data", "target": {"model": "m"}, "channels": channels}
        ),
    )
    monitors.backfill(store, T0, T0 + hours * HOUR, now=T0 + hours * HOUR)


def test_dns_rebinding_after_configuration_is_refused_at_delivery_without_connecting(
    sqlite_store: Store, tmp_path: Path, fake_dns: Callable[[str, list[str]], list[str]]
) -> None:
    """A name that answered a public address when the channel was saved and answers 127.0.0.1
    when it is delivered: refused, and nothing reaches the receiver listening there."""
    with http_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        answers = fake_dns("rebind.test", [PUBLIC, "127.0.0.1"])
        url = f"http://rebind.test:{port}/hook"
        monitors.save_channel(
            sqlite_store,
            Channel.model_validate({"name": "hook", "config": {"type": "webhook", "url": url}}),
        )
        assert answers == [PUBLIC]  # the configuration-time check saw the public answer
        _silence(sqlite_store, tmp_path, ["hook"])
        stats = monitors.deliver_pending(sqlite_store, MonitorSettings(delivery_backoff_seconds=0))
        assert (stats.sent, stats.retrying) == (0, 2)
        assert receiver.requests == []
    errors = {d.last_error for d in monitors.list_deliveries(sqlite_store)}
    assert errors == {
        "outbound address refused (loopback): 'rebind.test' is 127.0.0.1; an admin can allow "
        "its network with VIGIL_OUTBOUND_ALLOW (a CIDR list)"
    }


def test_the_connection_goes_to_the_checked_address_not_to_a_second_answer(
    sqlite_store: Store, tmp_path: Path, fake_dns: Callable[[str, list[str]], list[str]]
) -> None:
    """The name answers 127.0.0.1 (where the receiver listens) once, then 127.0.0.2 (nothing
    listens): one lookup per delivery, and the POST reaches the checked address with the name in
    its Host header. A client that resolved again would connect to 127.0.0.2 and fail."""
    settings = MonitorSettings(outbound_allow="127.0.0.0/8", delivery_backoff_seconds=0)
    policy = settings.outbound_policy()
    with http_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        url = f"http://pinned.test:{port}/hook"
        answers = fake_dns("pinned.test", ["127.0.0.1", "127.0.0.2"])
        with sqlite_store.session() as session:
            create_subscription(
                session, SubscriptionIn(name="ci", url=url), actor="ana", policy=policy
            )
        assert answers == ["127.0.0.1"]
        answers.clear()
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate({"name": "m1", "kind": "no_data", "target": {"model": "m"}}),
        )  # a monitor.created event, queued for the subscription
        stats = deliver_events(sqlite_store, settings)
        assert (stats.sent, stats.retrying) == (1, 0), _errors(sqlite_store)
        assert answers == ["127.0.0.1"]
        (received,) = receiver.requests
    assert received.headers["Host"] == f"pinned.test:{port}"
    assert received.json()["type"] == "monitor.created"


def _errors(store: Store) -> list[str]:
    with store.session() as session:
        return [d.last_error for d in list_deliveries(session)]


def test_email_connects_to_the_checked_address_of_its_host(
    sqlite_store: Store, tmp_path: Path, fake_dns: Callable[[str, list[str]], list[str]]
) -> None:
    """A real SMTP server on loopback, reached through a name (allowed explicitly); a later
    answer for the name (127.0.0.2, no server) is never used for the message."""
    settings = MonitorSettings(outbound_allow="127.0.0.0/8", delivery_backoff_seconds=0)
    with smtp_receiver() as smtp:
        answers = fake_dns("mail.test", ["127.0.0.1", "127.0.0.1", "127.0.0.2"])
        config = {
            "type": "email",
            "host": "mail.test",
            "port": smtp.port,
            "sender": "vigil@example.com",
            "to": ["oncall@example.com"],
        }
        monitors.save_channel(
            sqlite_store,
            Channel.model_validate({"name": "mail", "config": config}),
            policy=settings.outbound_policy(),
        )
        _silence(sqlite_store, tmp_path, ["mail"], hours=2)
        stats = monitors.deliver_pending(sqlite_store, settings)
        assert stats.sent == 1, [d.last_error for d in monitors.list_deliveries(sqlite_store)]
        assert answers == ["127.0.0.1", "127.0.0.1"]  # configuration, then one for the message
        (message,) = smtp.messages
    assert "no data arrived" in message["Subject"]
    # Under the default policy: refused before any connection.
    with pytest.raises(OutboundAddressError, match=r"\(loopback\): 'mail.test'"):
        smtp_connection("mail.test", smtp.port, OutboundPolicy(), timeout=5)


def test_unresolvable_names_are_accepted_when_configured_and_refused_at_delivery() -> None:
    check_url("https://hooks.invalid/x", OutboundPolicy())
    with pytest.raises(OutboundAddressError, match="cannot resolve"):
        resolve("hooks.invalid", 443, OutboundPolicy())


@contextmanager
def https_receiver(name: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """An HTTPS server on 127.0.0.1 with a certificate for `name` from a test CA, trusted by
    the outbound TLS context for the test; yields its port and the (SNI name, Host) of each
    POST."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import trustme

    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(server_context)
    seen: list[tuple[str, str]] = []
    sni: list[str] = []
    server_context.sni_callback = lambda _sock, server_name, _ctx: sni.append(server_name or "")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append((sni[-1], self.headers["Host"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real = ssl.create_default_context

    def trusting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real(*args, **kwargs)
        ca.configure_trust(context)
        return context

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssl, "create_default_context", trusting)
        try:
            yield server.server_address[1], seen
        finally:
            server.shutdown()
            server.server_close()


def test_https_on_a_pinned_address_verifies_the_host_name(
    fake_dns: Callable[[str, list[str]], list[str]],
) -> None:
    """The TLS connection goes to the checked address, with the URL's host name as SNI and Host,
    and the certificate is verified for that name: one for another name is refused."""
    policy = OutboundPolicy.parse("127.0.0.0/8")
    fake_dns("secure.test", ["127.0.0.1"])
    with https_receiver("secure.test") as (port, seen):
        post(f"https://secure.test:{port}/hook", b"{}", {}, policy, timeout=5)
        assert seen == [("secure.test", f"secure.test:{port}")]
    with https_receiver("other.test") as (port, seen):
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
            post(f"https://secure.test:{port}/hook", b"{}", {}, policy, timeout=5)
        assert seen == []
