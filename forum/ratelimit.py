"""Rate limits that hold across processes and machines, without window-edge bursts.

A limit is "at most N hits in **any** S seconds" for one identity (a keyed IP hash,
a user id, an account name's hash). It is a sliding log: each identity keeps the
times of its last N accepted hits, and a hit is accepted only while fewer than N of
them fall within the S seconds before it. So no client ever gets more than N in any
interval of S seconds, wherever the interval starts (fixed windows allowed 2N
across a boundary). ``Retry-After`` is the moment the oldest of those N hits leaves
the interval. A refused hit records nothing, so waiting is always enough.

Several limits are checked together and atomically (``attempt``): a hit is
recorded in all of them or in none, so a refusal by the hourly limit does not
consume the per-minute one. Storage:

- with Redis as the cache (``CACHE_URL=redis://...``): one sorted set per
  (limit, identity), updated by one Lua script (atomic in Redis), with Redis's own
  clock, expiring after S seconds;
- otherwise, and whenever Redis does not answer: one row per (limit, identity) in
  ``forum_ratecounter`` holding the times, changed under the row lock (``SELECT ...
  FOR UPDATE`` on PostgreSQL; SQLite's write transactions are serial), so several
  processes on one database count exactly. Rows are swept when they expire.

Per-process memory is never used: it would give every worker its own allowance.
``record`` (used for failed passwords, ``accounts.lockout``) adds a hit even over
the limit, keeping the newest N.
"""

import datetime
import logging
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forum.models import RateCounter

logger = logging.getLogger(__name__)

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

Mode = Literal["peek", "hit", "record"]


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int

    @classmethod
    def parse(cls, scope: str, rate: str) -> "Limit":
        """``"2/min"``, ``"10/hour"``, ``"1/30s"``, ``"5/15min"``."""
        match = _RATE.match(rate.lower())
        if not match or match.group(3) not in _UNITS:
            raise ValueError(f"bad rate {rate!r} for {scope}: use e.g. 2/min, 10/hour, 1/30s")
        multiplier = int(match.group(2) or 1)
        return cls(
            scope=scope, count=int(match.group(1)), seconds=multiplier * _UNITS[match.group(3)]
        )

    def key(self, ident: str) -> str:
        return f"rl:{self.scope}:{self.count}/{self.seconds}:{ident}"


Check = tuple[Limit, str]  # a limit and the identity it counts


def limits_for(scope: str) -> list[Limit]:
    """The limits configured for ``scope`` in ``settings.RATE_LIMITS``."""
    return [Limit.parse(scope, rate) for rate in settings.RATE_LIMITS.get(scope, [])]


def attempt(checks: Sequence[Check], *, now: float | None = None) -> float | None:
    """Count one hit against every check, atomically: ``None`` when all allow it
    (it is recorded in all), otherwise the seconds until they would (nothing is
    recorded)."""
    return _apply(checks, mode="hit", now=now)


def pending(checks: Sequence[Check], *, now: float | None = None) -> float | None:
    """The seconds until a hit would be allowed (``None``: now), recording nothing."""
    return _apply(checks, mode="peek", now=now)


def record(checks: Sequence[Check], *, now: float | None = None) -> float | None:
    """Record a hit whatever the limits say; then, like ``pending``, the wait before
    the next one would be allowed."""
    return _apply(checks, mode="record", now=now)


def hit(*, limit: Limit, ident: str, now: float | None = None) -> float | None:
    """``attempt`` for a single limit."""
    return attempt([(limit, ident)], now=now)


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


def _apply(checks: Sequence[Check], *, mode: Mode, now: float | None) -> float | None:
    if not checks:
        return None
    if _uses_redis():
        from redis.exceptions import ConnectionError, TimeoutError

        try:
            return _apply_in_redis(checks, mode=mode, now=now)
        except (ConnectionError, TimeoutError) as exc:
            # The cache is down: count in the database meanwhile (README, outages).
            logger.warning("rate limits: Redis unavailable (%s); counting in the database", exc)
    return _apply_in_database(checks, mode=mode, now=now)


# KEYS: one sorted set per check. ARGV: mode, now in ms ("" = Redis's clock), a
# unique member, then count and span (ms) for each key. Returns the wait in ms, or
# -1 when a hit is allowed now.
_LUA = """
local mode = ARGV[1]
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[2])
end
local function wait_all()
  local wait = -1
  for i = 1, #KEYS do
    local count = tonumber(ARGV[2 + 2 * i])
    local span = tonumber(ARGV[3 + 2 * i])
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
    local held = redis.call('ZCARD', KEYS[i])
    if held >= count then
      local w = span
      if count > 0 then
        local oldest = redis.call('ZRANGE', KEYS[i], held - count, held - count, 'WITHSCORES')
        w = tonumber(oldest[2]) + span - now
      end
      if w > wait then wait = w end
    end
  end
  return wait
end
local wait = wait_all()
if mode == 'peek' or (mode == 'hit' and wait >= 0) then
  return wait
end
for i = 1, #KEYS do
  local count = tonumber(ARGV[2 + 2 * i])
  local span = tonumber(ARGV[3 + 2 * i])
  redis.call('ZADD', KEYS[i], now, ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(count + 1))
  redis.call('PEXPIRE', KEYS[i], span)
end
if mode == 'hit' then
  return -1
end
return wait_all()
"""


def _apply_in_redis(checks: Sequence[Check], *, mode: Mode, now: float | None) -> float | None:
    from django.core.cache import cache
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    keys = [cache.make_key(limit.key(ident)) for limit, ident in checks]
    args: list = [mode, "" if now is None else int(now * 1000), secrets.token_hex(8)]
    for limit, _ident in checks:
        args += [limit.count, limit.seconds * 1000]
    wait_ms = int(client.register_script(_LUA)(keys=keys, args=args))
    return None if wait_ms < 0 else max(wait_ms, 1) / 1000


def _wait(stamps: list[int], limit: Limit, now_ms: int) -> int | None:
    """Milliseconds until ``stamps`` (sorted, already within the span) leave room."""
    if len(stamps) < limit.count:
        return None
    if limit.count == 0:
        return limit.seconds * 1000
    return max(stamps[len(stamps) - limit.count] + limit.seconds * 1000 - now_ms, 1)


def _apply_in_database(checks: Sequence[Check], *, mode: Mode, now: float | None) -> float | None:
    now_ms = int((time.time() if now is None else now) * 1000)
    by_key = {limit.key(ident): limit for limit, ident in checks}
    keys = sorted(by_key)  # one locking order for every process: no deadlocks
    moment = timezone.now()
    with transaction.atomic():
        RateCounter.objects.bulk_create(
            [RateCounter(key=key, count=0, stamps="", expires_at=moment) for key in keys],
            ignore_conflicts=True,
        )
        rows = {
            row.key: row
            for row in RateCounter.objects.select_for_update().filter(key__in=keys).order_by("key")
        }
        fresh = any(not row.stamps for row in rows.values())
        held: dict[str, list[int]] = {}
        for key in keys:
            limit = by_key[key]
            start = now_ms - limit.seconds * 1000
            stamps = [int(s) for s in rows[key].stamps.split()]
            held[key] = [s for s in stamps if s > start]
        waits = [w for key in keys if (w := _wait(held[key], by_key[key], now_ms)) is not None]
        wait = max(waits) if waits else None
        if mode == "peek" or (mode == "hit" and wait is not None):
            return None if wait is None else wait / 1000
        for key in keys:
            limit = by_key[key]
            stamps = sorted([*held[key], now_ms])[-limit.count :] if limit.count else []
            row = rows[key]
            row.stamps = " ".join(map(str, stamps))
            row.count = len(stamps)
            row.expires_at = moment + datetime.timedelta(seconds=limit.seconds)
            row.save(update_fields=["stamps", "count", "expires_at"])
            held[key] = stamps
        if fresh:  # a new identity: sweep those that went quiet (index on expires_at)
            RateCounter.objects.filter(expires_at__lt=moment).exclude(key__in=keys).delete()
    if mode == "hit":
        return None
    waits = [w for key in keys if (w := _wait(held[key], by_key[key], now_ms)) is not None]
    return max(waits) / 1000 if waits else None
