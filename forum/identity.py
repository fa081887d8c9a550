"""Who is asking, without keeping who they are.

``client_ip`` is the address of the client: ``REMOTE_ADDR``, unless that is one of
``settings.TRUSTED_PROXIES``, in which case ``X-Forwarded-For`` is read from the
right, skipping trusted proxies, and the first address that is not one is the
client. A header sent by anyone else is ignored, so clients cannot pick their IP.

Raw addresses are never stored. ``ip_hash`` is an HMAC keyed with
``settings.IP_HASH_KEY`` (derived from ``SECRET_KEY`` unless set), so the hashes
cannot be reversed by hashing the small IPv4 space without the key.
"""

import hashlib
import hmac
import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return "unknown"
    if not _is_trusted(remote):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _parse(hop)
        if address is None:
            break  # a garbled header: trust nothing further left
        if not _is_trusted(address):
            return str(address)
    return str(remote)


def ip_hash(ip: str) -> str:
    key = settings.IP_HASH_KEY.encode()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def request_ip_hash(request: HttpRequest) -> str:
    return ip_hash(client_ip(request))


def network_of(ip: str) -> str:
    """The network one party is taken to control: the /24 of an IPv4 address, the /64
    of an IPv6 one (a household's or a host's allocation); ``ip`` itself otherwise. An
    IPv4 address written as IPv6 (``::ffff:a.b.c.d``) is the IPv4 one, so both spellings
    fall in the same network (bans and flag counting, ``forum.flags``)."""
    address = _parse(ip)
    if address is None:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def network_hash(ip: str) -> str:
    """Keyed hash of the network of ``ip`` (``network_of``), like ``ip_hash``."""
    return ip_hash(network_of(ip))


def request_network_hash(request: HttpRequest) -> str:
    """The keyed hash of the client's network (``network_of``)."""
    return network_hash(client_ip(request))
