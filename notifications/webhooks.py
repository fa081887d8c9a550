"""Webhook calls: signed per Standard Webhooks, sent only to public addresses.

Signature: ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``
where the key is the base64 part of the endpoint's ``whsec_`` secret.

Server-side request forgery: the host is resolved once; every address it resolves
to must be global (not private, loopback, link-local, multicast, reserved or
unspecified) unless ``NOTIFICATIONS["WEBHOOK_ALLOW_PRIVATE"]``; the connection goes
to the checked address (the Host header and TLS name stay the URL's host, so a
second DNS answer cannot redirect it). Short timeouts; redirects are not followed
(a 3xx is a failed attempt).
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "forum-webhooks/1"


class RefusedTarget(Exception):
    """The URL may never be called (a permanent failure, not retried)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def valid_secret(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        return len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 16
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP to connect to


# IPv6 ranges that carry an IPv4 address in their low 32 bits and reach it through a
# translator or relay on some networks: NAT64 (RFC 6052 well-known and RFC 8215
# local-use prefixes), IPv4-compatible (deprecated) and IPv4-translated (SIIT).
_EMBEDDING_IPV4 = tuple(
    ipaddress.ip_network(net)
    for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if any (mapped, 6to4, Teredo
    client, NAT64, compatible, translated)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _allowed(address: str) -> bool:
    """Whether a webhook may connect to ``address``: a global unicast address, and for
    an IPv6 address that embeds an IPv4 one, the embedded address is global too."""
    if settings.NOTIFICATIONS["WEBHOOK_ALLOW_PRIVATE"]:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not (embedded.is_global and not embedded.is_multicast):
            return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse a URL that could never be called (scheme, host, credentials): for the
    admin's form. Addresses are checked when calling (DNS answers change)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("Only http:// and https:// URLs with a host are allowed.")
    if parts.username or parts.password:
        raise RefusedTarget("URLs with credentials are not allowed.")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise RefusedTarget("The port is not valid.") from exc


def resolve(url: str) -> Target:
    """Resolve the URL's host once and check every address it gives."""
    check_url(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    refused = [a for a in addresses if not _allowed(a)]
    if not addresses or refused:
        raise RefusedTarget(
            f"{parts.hostname} resolves to a non-public address ({', '.join(refused)}); "
            "refused (WEBHOOK_ALLOW_PRIVATE allows it)."
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI for the URL's host name, over the checked address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Response:
    status: int


def post(*, url: str, secret: str, message_id: str, body: str) -> Response:
    """POST ``body`` signed; returns the response status (any). Raises
    ``RefusedTarget`` for a forbidden target, ``OSError`` for network errors."""
    target = resolve(url)
    timeout = settings.NOTIFICATIONS["WEBHOOK_TIMEOUT_SECONDS"]
    timestamp = int(time.time())
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body.encode(),
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(
                    secret=secret, message_id=message_id, timestamp=timestamp, body=body
                ),
            },
        )
        response = connection.getresponse()
        response.read(64 * 1024)  # a little of the answer; the rest is not wanted
        return Response(status=response.status)
    finally:
        connection.close()
