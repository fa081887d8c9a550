"""Who is asking, without keeping who they are: keyed hashes of IP addresses.

Raw addresses are never stored. ``ip_hash`` is an HMAC keyed with
``settings.IP_HASH_KEY`` (derived from ``SECRET_KEY`` unless set), so the hashes
cannot be reversed by hashing the small IPv4 space without the key.
"""

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def ip_hash(ip: str) -> str:
    key = settings.IP_HASH_KEY.encode()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def request_ip_hash(request: HttpRequest) -> str:
    return ip_hash(client_ip(request))
