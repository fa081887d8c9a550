"""Reads from a replica, writes to the primary, and a writer reads its own writes.

Active only when ``DATABASE_REPLICA_URL`` is set (``config/settings.py`` then adds
the ``replica`` database, this router and ``PrimaryPinMiddleware``).

A request is **pinned** to the primary, for all its reads, when

- its method may write (anything but GET, HEAD, OPTIONS), or it wrote already
  (``db_for_write`` was asked), or
- the same client wrote within the last ``REPLICA_PIN_SECONDS``: after a write the
  middleware sets a cookie for that long and, for callers with credentials (a token
  or a session), also a cache key named by a hash of them, which API clients that
  drop cookies still carry.

So whoever posts a comment and reloads sees it, however far the replica lags; every
one else reads the replica. (Thread pages are rendered from the primary anyway, see
``forum.thread_page.thread_page``, so the shared page cache never holds a lagging view.)
"""

import hashlib
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
REPLICA = "replica"
PIN_COOKIE = "primary_pin"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_pinned: ContextVar[bool] = ContextVar("forum_primary_pinned", default=False)


def pin_to_primary() -> None:
    """Send this request's remaining reads (this thread or task) to the primary."""
    _pinned.set(True)


def pinned() -> bool:
    return _pinned.get()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return PRIMARY if _pinned.get() else REPLICA

    def db_for_write(self, model, **hints) -> str:
        _pinned.set(True)  # read your own writes for the rest of the request
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


def _credential_key(request: HttpRequest) -> str | None:
    credential = request.META.get("HTTP_AUTHORIZATION") or request.COOKIES.get(
        settings.SESSION_COOKIE_NAME
    )
    if not credential:
        return None
    return "replica-pin:" + hashlib.sha256(credential.encode()).hexdigest()[:32]


class PrimaryPinMiddleware:
    """Decides, per request, whether reads go to the primary (see the module doc)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = _credential_key(request)
        pin = (
            request.method not in _SAFE_METHODS
            or PIN_COOKIE in request.COOKIES
            or (key is not None and cache.get(key) is not None)
        )
        token = _pinned.set(pin)
        try:
            response = self.get_response(request)
            if _pinned.get() and request.method not in _SAFE_METHODS:
                seconds = settings.REPLICA_PIN_SECONDS
                response.set_cookie(
                    PIN_COOKIE,
                    "1",
                    max_age=seconds,
                    httponly=True,
                    samesite="Lax",
                    secure=settings.SESSION_COOKIE_SECURE,
                )
                if key is not None:
                    cache.set(key, 1, timeout=seconds)
            return response
        finally:
            _pinned.reset(token)
