"""Throttles for writes, on the shared counters of ``forum.ratelimit``.

Callers without an account are counted by keyed IP hash (``forum.identity``, which
believes X-Forwarded-For only from trusted proxies), logged-in callers by account,
with a stricter pace for new accounts. Moderators are not throttled. The limits
are ``settings.RATE_LIMITS`` (scope → list of rates such as ``"2/min"``).
"""

import datetime

from django.conf import settings
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from forum.identity import request_ip_hash
from forum.permissions import is_moderator
from forum.ratelimit import attempt, limits_for

_READS = ("GET", "HEAD", "OPTIONS")


class ScopedThrottle(BaseThrottle):
    anonymous_scopes: tuple[str, ...] = ()
    user_scopes: tuple[str, ...] = ()
    new_account_scopes: tuple[str, ...] = ()
    throttle_reads = False

    def __init__(self) -> None:
        self._wait: float | None = None

    def _identities(self, request) -> list[tuple[str, str]]:
        user = request.user
        if user is None or not user.is_authenticated:
            ident = f"ip:{request_ip_hash(request)}"
            return [(scope, ident) for scope in self.anonymous_scopes]
        ident = f"user:{user.pk}"
        scopes = list(self.user_scopes)
        age = timezone.now() - user.date_joined
        if age < datetime.timedelta(days=settings.NEW_ACCOUNT_DAYS):
            scopes += self.new_account_scopes
        return [(scope, ident) for scope in scopes]

    def allow_request(self, request, view) -> bool:
        if (request.method in _READS and not self.throttle_reads) or is_moderator(request.user):
            return True
        # Every limit at once: a hit is counted by all of them or by none.
        self._wait = attempt(
            [
                (limit, ident)
                for scope, ident in self._identities(request)
                for limit in limits_for(scope)
            ]
        )
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class CommentThrottle(ScopedThrottle):
    anonymous_scopes = ("comment_anon",)
    user_scopes = ("comment_user",)
    new_account_scopes = ("comment_new_account",)


class WriteThrottle(ScopedThrottle):
    """Flags and guest submissions."""

    anonymous_scopes = ("write_anon",)
    user_scopes = ("write_user",)


class VoteThrottle(ScopedThrottle):
    """Votes: their own scopes, so voting never eats into a reader's comment or flag
    allowance."""

    anonymous_scopes = ("vote_anon",)
    user_scopes = ("vote_user",)


class LoginThrottle(ScopedThrottle):
    """Password attempts (token, registration), per IP whoever the caller is."""

    anonymous_scopes = ("login",)

    def _identities(self, request) -> list[tuple[str, str]]:
        # Password guessing is counted where it comes from, logged in or not.
        return [("login", f"ip:{request_ip_hash(request)}")]
