"""The one outbound address policy: every request Vigil sends out of the server (webhooks, Slack,
PagerDuty, email, event subscriptions) goes through it.

A host is resolved ONCE; every address it resolves to is checked; the connection is then made to
the checked address itself (pinned), never to the name again, so that a DNS answer that changes
between the check and the connection (DNS rebinding) cannot reach a refused address. HTTPS still
verifies the certificate against the original host name (SNI and the Host header are the name).

Refused unless an allowed network covers them: loopback, unspecified (0.0.0.0, ::), link-local,
multicast, private and unique-local ranges, and every other non-global (reserved, shared,
documentation) range; IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms are judged by the
IPv4 address they carry.

>>> OutboundPolicy().refusal(ipaddress.ip_address("::ffff:127.0.0.1"))
'IPv4-mapped loopback'
>>> OutboundPolicy.parse("127.0.0.0/8").refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
True
"""

from __future__ import annotations

import base64
import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpcore

from vigil.errors import InvalidInputError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALL = "*"
"""The allow-list entry that allows every address (for a deployment behind its own egress
filter)."""
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")


class OutboundAddressError(InvalidInputError):
    """An outbound request would reach an address the policy refuses; `details["rule"]` names
    the rule ("loopback", "private", "link-local"...)."""

    code = "outbound_address_refused"


def parse_networks(text: str) -> tuple[Network, ...]:
    """The networks of a comma-separated CIDR list ("127.0.0.0/8,10.0.0.0/8", "*" for all);
    InvalidInputError names an entry that is not a network."""
    networks: list[Network] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        if entry == ALL:
            networks += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise InvalidInputError(
                f"outbound allow-list entry {entry!r} is not a network; write CIDR networks "
                "separated by commas (e.g. 10.0.0.0/8,fd00::/8) or * for every address",
                entry=entry,
            ) from None
    return tuple(networks)


def embedded_ipv4(address: Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address reaches, and the form carrying it: IPv4-mapped
    (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4
    (2002:AABB:CCDD::); None for any other address."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in _NAT64):
        return low32, "NAT64"
    if address in _COMPATIBLE and int(address) > 1:  # not :: nor ::1
        return low32, "IPv4-compatible"
    return None


def _rule(address: Address) -> str | None:
    """The name of the rule that refuses this address by default, or None for a global one."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL:
        return "unique-local"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-global"
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Which addresses outbound requests may reach: every global address, plus the `allow`
    networks. Built once from the settings (`MonitorSettings.outbound_policy()`) and passed to
    configuration checks and deliveries."""

    allow: tuple[Network, ...] = ()

    @classmethod
    def parse(
        cls, allow: str = "", *, allow_loopback: bool = False, allow_private: bool = False
    ) -> OutboundPolicy:
        """A policy from a CIDR allow-list (`VIGIL_OUTBOUND_ALLOW`) and the two shorthands."""
        extra = (LOOPBACK_NETWORKS if allow_loopback else ()) + (
            PRIVATE_NETWORKS if allow_private else ()
        )
        return cls(parse_networks(",".join((allow, *extra))))

    def allows(self, address: Address) -> bool:
        embedded = embedded_ipv4(address)
        return any(
            address in net or (embedded is not None and embedded[0] in net) for net in self.allow
        )

    def refusal(self, address: Address) -> str | None:
        """The rule refusing `address` ("loopback", "private", "IPv4-mapped loopback"...), or None
        when it may be reached."""
        if self.allows(address):
            return None
        embedded = embedded_ipv4(address)
        if embedded is not None:
            ipv4, form = embedded
            rule = _rule(ipv4)
            if rule is not None:
                return f"{form} {rule}"
            if form in ("IPv4-mapped", "NAT64"):
                return None  # a translation to a global IPv4 address
        return _rule(address)

    def check(self, host: str, address: Address) -> None:
        """OutboundAddressError (422) naming the rule when `address` (of `host`) is refused."""
        rule = self.refusal(address)
        if rule is not None:
            raise OutboundAddressError(
                f"outbound address refused ({rule}): {host!r} is {address}; an admin can allow "
                "its network with VIGIL_OUTBOUND_ALLOW (a CIDR list)",
                host=host,
                address=str(address),
                rule=rule,
            )


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def resolve(host: str, port: int, policy: OutboundPolicy) -> tuple[Address, ...]:
    """Resolve `host` once and check every address it resolves to (all must pass: a name that
    also answers a refused address is refused). OutboundAddressError when refused or unknown."""
    literal = _literal(host)
    if literal is not None:
        policy.check(host, literal)
        return (literal,)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundAddressError(
            f"cannot resolve {host!r}: {exc}", host=host, rule="unresolvable"
        ) from None
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        policy.check(host, address)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OutboundAddressError(f"{host!r} resolves to no address", host=host)
    return tuple(addresses)


@dataclass(frozen=True)
class Endpoint:
    """A URL's host and port, as parsed once."""

    host: str
    port: int


def endpoint(url: str) -> Endpoint:
    """The host and port of an http(s) URL; InvalidInputError when it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"the URL is not valid: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"an outbound URL needs http:// or https:// and a host, got {mask_url(url)!r}"
        )
    return Endpoint(parts.hostname, port or (443 if parts.scheme == "https" else 80))


def check_configured(host: str, port: int, policy: OutboundPolicy) -> None:
    """The configuration-time check: a host that resolves now must resolve only to allowed
    addresses (422 naming the rule). A name that does not resolve yet is accepted; it is checked
    again, and pinned, at every delivery."""
    try:
        resolve(host, port, policy)
    except OutboundAddressError as exc:
        if exc.details.get("rule") != "unresolvable":
            raise


def check_url(url: str, policy: OutboundPolicy) -> None:
    """`check_configured` for an http(s) URL."""
    target = endpoint(url)
    check_configured(target.host, target.port, policy)


def mask_url(url: str) -> str:
    """A URL with what may hold a key hidden: user info dropped, path and query replaced by `***`
    ("https://hooks.slack.com/***"). Scheme, host and port stay, to recognise the receiver."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "***"
    if ":" in host:
        host = f"[{host}]"
    base = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or parts.username
    return base + ("/***" if hidden else parts.path)


# -- pinned connections -------------------------------------------------------------------------


class _PinnedBackend(httpcore.SyncBackend):
    """Connects to the checked addresses whatever host httpcore asks for (it asks for the URL's
    host, whose name must not be resolved a second time)."""

    def __init__(self, addresses: Sequence[Address]) -> None:
        self._addresses = tuple(addresses)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self._addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address to connect to for {host!r}")


HTTP_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
    httpcore.ConnectionNotAvailable,
    OSError,
)
"""What a pinned POST raises when the receiver cannot be reached or answers garbage."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


class PinnedHTTP:
    """POSTs to one URL over connections to its checked addresses only (httpcore with a pinned
    network backend). TLS is verified against the URL's host name, which is also the SNI name
    and the Host header. Redirects are not followed, no proxy from the environment is used, and
    nothing logs the URL (its path and query may hold a key; httpx would log it at INFO)."""

    def __init__(self, url: str, addresses: Sequence[Address], *, timeout: float) -> None:
        parts = urlsplit(url)
        target = endpoint(url)
        self._url = httpcore.URL(
            scheme=parts.scheme.encode("ascii"),
            host=target.host.encode("idna") if _literal(target.host) is None else target.host,
            port=target.port,
            target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        )
        self._host_header = parts.netloc.rpartition("@")[2]
        self._auth: str | None = None
        if parts.username is not None:  # user info in the URL: HTTP basic authentication
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._auth = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        self._timeout = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        self._pool = httpcore.ConnectionPool(
            # Loading the CA certificates costs milliseconds: only for https.
            ssl_context=ssl.create_default_context() if parts.scheme == "https" else None,
            network_backend=_PinnedBackend(addresses),
            max_connections=1,
        )

    def post(self, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        sent = {"Host": self._host_header, **headers}
        if self._auth is not None and not any(k.lower() == "authorization" for k in headers):
            sent["Authorization"] = self._auth
        response = self._pool.request(
            "POST",
            self._url,
            headers=list(sent.items()),
            content=body,
            extensions={"timeout": self._timeout},
        )
        return HttpAnswer(response.status, response.content)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PinnedHTTP:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def pinned_http(url: str, policy: OutboundPolicy, *, timeout: float) -> PinnedHTTP:
    """A POST client for `url`, connected only to the addresses its host resolves to now,
    checked by `policy` (OutboundAddressError when one is refused)."""
    target = endpoint(url)
    return PinnedHTTP(url, resolve(target.host, target.port, policy), timeout=timeout)


class PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP connected to a checked address: `connect(host)` keeps the host name (for
    EHLO and for STARTTLS's server name and certificate check) while the socket goes to the
    pinned address."""

    def __init__(self, addresses: Sequence[Address], *, timeout: float) -> None:
        self._pinned = tuple(addresses)
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        error: OSError | None = None
        for address in self._pinned:
            try:
                return socket.create_connection((str(address), port), timeout, self.source_address)
            except OSError as exc:
                error = exc
        raise error or OSError(f"no address to connect to for {host!r}")


def smtp_connection(host: str, port: int, policy: OutboundPolicy, *, timeout: float) -> PinnedSMTP:
    """An SMTP connection to `host`, resolved once, checked by `policy`, pinned."""
    smtp = PinnedSMTP(resolve(host, port, policy), timeout=timeout)
    smtp.connect(host, port)
    return smtp


def tls_context() -> ssl.SSLContext:
    """The TLS context of STARTTLS (certificates verified against the host name)."""
    return ssl.create_default_context()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret (and each URL secret's path, path segments, query, query values
    and user info) replaced by `***`, for error messages and logs."""
    values: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        values.add(secret)
        try:
            parts = urlsplit(secret)
            pieces = [parts.path, parts.query, parts.password or "", parts.username or ""]
            pieces += parts.path.split("/") + [v for _, v in parse_qsl(parts.query)]
        except ValueError:
            pieces = []
        values.update(p for p in pieces if len(p) >= 6)
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "***")
    return text
