"""Rate limits that hold across processes and machines.

A limit is "at most N hits per window of S seconds" for one identity (a keyed IP
hash, a user id). Windows are fixed (``now // S``), so a client can at worst send
2N in a burst straddling two windows; in exchange a hit costs one atomic step:

- with Redis as the cache (``CACHE_URL=redis://...``): ``SET NX`` + ``INCR`` on a
  key that expires with its window;
- otherwise: one row per (limit, identity, window) in ``forum_ratecounter``,
  incremented with ``UPDATE ... RETURNING`` under the row lock, so even several
  processes on one SQLite file or PostgreSQL count exactly.

Per-process memory is never used: it would give every worker its own allowance.
"""

import datetime
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from forum.models import RateCounter

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int

    @classmethod
    def parse(cls, scope: str, rate: str) -> "Limit":
        """``"2/min"``, ``"10/hour"``, ``"1/30s"``."""
        match = _RATE.match(rate.lower())
        if not match or match.group(3) not in _UNITS:
            raise ValueError(f"bad rate {rate!r} for {scope}: use e.g. 2/min, 10/hour, 1/30s")
        multiplier = int(match.group(2) or 1)
        return cls(
            scope=scope, count=int(match.group(1)), seconds=multiplier * _UNITS[match.group(3)]
        )


def limits_for(scope: str) -> list[Limit]:
    """The limits configured for ``scope`` in ``settings.RATE_LIMITS``."""
    return [Limit.parse(scope, rate) for rate in settings.RATE_LIMITS.get(scope, [])]


def hit(*, limit: Limit, ident: str, now: float | None = None) -> float | None:
    """Count one hit. ``None`` when it is within the limit; otherwise the seconds
    until the window ends (for ``Retry-After``)."""
    now = time.time() if now is None else now
    window = int(now // limit.seconds)
    key = f"rl:{limit.scope}:{limit.count}/{limit.seconds}:{ident}:{window}"
    count = _increment(key, expires_in=limit.seconds)
    if count <= limit.count:
        return None
    return (window + 1) * limit.seconds - now


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


def _increment(key: str, *, expires_in: int) -> int:
    if _uses_redis():
        cache.add(key, 0, timeout=expires_in + 1)
        return cache.incr(key)
    return _increment_in_database(key, expires_in=expires_in)


def _increment_in_database(key: str, *, expires_in: int) -> int:
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            sql = f"UPDATE {table} SET count = count + 1 WHERE key = %s RETURNING count"  # noqa: S608
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        now = timezone.now()
        # A new window: sweep the counters of ended ones (indexed, amortized).
        RateCounter.objects.filter(expires_at__lt=now).delete()
        try:
            with transaction.atomic():
                RateCounter.objects.create(
                    key=key, count=1, expires_at=now + datetime.timedelta(seconds=expires_in)
                )
            return 1
        except IntegrityError:  # another process created it first: count on it
            with connection.cursor() as cursor:
                cursor.execute(sql, [key])
                return cursor.fetchone()[0]
