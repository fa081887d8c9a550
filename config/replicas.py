"""Read replicas that never lie to a writer and never take the site down.

Active only when replicas are configured (``DATABASE_REPLICA_URLS``, or the single
``DATABASE_REPLICA_URL``): ``config/settings.py`` then adds the databases
``replica_1`` ... ``replica_N`` (``settings.REPLICA_DATABASES``), ``ReplicaRouter``
and ``ReplicaMiddleware``. The scheme is GitLab's database load balancing:

**Writers are remembered by WAL position, not by a timer.** When a request may have
written (a method other than GET/HEAD/OPTIONS, or any ORM write, a session save
included) and was not refused (any status but 4xx), the middleware asks the primary for
``pg_current_wal_insert_lsn()`` *after* the view's transactions committed (the
insert position: with asynchronous commit the write position may still be short
of the commit record) and stores it in
the shared cache under every key that names the caller:

- ``cred:`` the API token sent (``Authorization: Bearer`` or ``Token``, one key) and
  the session cookie sent,
  plus credentials the response issues: the session cookie set at login, the
  ``token`` of ``POST /api/auth/token/``; so issuing a token or a session counts as
  a write for the new credential;
- ``edit:`` the ``X-Edit-Token`` sent, or the ``edit_token`` a response issues;
- ``user:`` the account, when the request was authenticated (a credential's entry
  links to it, so another credential of the same account finds it);
- ``net:`` the client's network (``forum.identity.request_ip_hash``) for writers
  without an account, which covers clients that keep neither cookies nor tokens.

Positions live ``POSITION_SECONDS`` (a day) only to bound the cache's memory: a
replica further behind than ``REPLICA_MAX_LAG_SECONDS`` is not read at all. (Two
writes by one caller finishing at the same instant on two servers may leave the
earlier position stored; the later write is then that caller's to see once the
replica replays it, within the lag bound: a cache without compare-and-set allows
no better, and the window is the moment between query and store.)

**Each request picks its database once**, before the view runs, and keeps it in a
context variable that ``ReplicaRouter.db_for_read`` returns for every query:

- methods that may write read the primary, and so do the pages of ``PRIMARY_PATHS``
  (mail links: the worker signs them right after the write they name);
- otherwise the caller's keys are fetched in one ``get_many`` (with the replicas'
  "down" marks), the newest position among them is what a replica must have
  replayed, and a healthy replica that has (``pg_last_wal_replay_lsn()``) is chosen
  at random; callers with no position take any healthy replica;
- a replica's replay position and lag are checked with one query, at most one such
  query per request, and the answer is kept ``REPLICA_CHECK_SECONDS`` per process
  (a kept answer can only be behind the truth, so it never lets a writer read
  stale data); no replica qualifies: the primary.

**A replica outage never answers 5xx.** A replica that refuses the connection, fails
the check or lags more than ``REPLICA_MAX_LAG_SECONDS`` is marked down for
``REPLICA_RETRY_SECONDS`` (in this process and in the shared cache, so other
servers skip it too) and reads go elsewhere. When a query on the chosen replica
fails during a safe request that wrote nothing (the replica died after the check,
cancelled the query for recovery, or lacks a table or column that a migration just
added on the primary), ``process_exception`` marks it down and runs
the view again on the primary. When the cache cannot be read, the primary serves.

The first write in a request (``db_for_write``) moves the rest of its reads to the
primary. Outside a request (management commands, workers) everything reads the
primary. ``forum`` never imports this module.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connections,
)
from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject

from accounts.authentication import SCHEMES as TOKEN_SCHEMES
from forum.identity import request_ip_hash

logger = logging.getLogger(__name__)

PRIMARY = "default"
POSITION_SECONDS = 24 * 3600
KEY_PREFIX = "replicas:"
EDIT_TOKEN_HEADER = "X-Edit-Token"  # noqa: S105 (a header name)
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_TOKEN_SCHEMES = {scheme.lower() for scheme in TOKEN_SCHEMES}  # Bearer, Token
# Pages whose credential no request issued, so that no caller's position covers it:
# the links in mails (notifications/), signed by the worker a moment after the write
# they name. They are rare; they read the primary.
PRIMARY_PATHS = ("/notify/",)
# A read that failed on a replica with one of these runs again on the primary: the
# replica went away (Operational, Interface: also a query cancelled by recovery), or
# it has not replayed a migration the new code needs (Programming).
_RETRIED_ERRORS = (OperationalError, InterfaceError, ProgrammingError)
_CHECK_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn()::text,
       CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""


@dataclass
class _RequestState:
    db: str
    wrote: bool = False


_state: ContextVar[_RequestState | None] = ContextVar("replicas_request_state", default=None)


@dataclass(frozen=True)
class ReplicaStatus:
    checked_at: float  # time.monotonic()
    replayed: int  # WAL position replayed (see lsn_to_int)
    lag_seconds: float


_lock = threading.Lock()
_status: dict[str, ReplicaStatus] = {}
_down_until: dict[str, float] = {}


def lsn_to_int(lsn: str) -> int:
    """``'16/B374D848'`` → a comparable integer."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        state = _state.get()
        return state.db if state is not None else PRIMARY

    def db_for_write(self, model, **hints) -> str:
        state = _state.get()
        if state is not None:
            state.wrote = True
            state.db = PRIMARY  # read your own writes for the rest of the request
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, several copies

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


# --- who is asking ---------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _credential_key(scheme: str, value: str) -> str:
    scheme = scheme.lower()
    if scheme in _TOKEN_SCHEMES:  # one API token, whichever word announces it
        scheme = "token"
    return f"cred:{_digest(scheme + ' ' + value)}"


def _sent_credential_keys(request: HttpRequest) -> list[str]:
    keys = []
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) == 2:  # "Bearer <key>", "Token <key>" (any case, as DRF reads them)
        keys.append(_credential_key(parts[0], parts[1]))
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        keys.append(_credential_key("session", session))
    edit = request.headers.get(EDIT_TOKEN_HEADER)
    if edit:
        keys.append(f"edit:{_digest(edit)}")
    return keys


def reader_keys(request: HttpRequest) -> list[str]:
    """Every key under which this caller's last write may be remembered."""
    return [*_sent_credential_keys(request), f"net:{request_ip_hash(request)}"]


def _user_id(request: HttpRequest) -> int | None:
    """The authenticated account, without loading one that nobody asked for."""
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):  # AuthenticationMiddleware's, maybe never read
        user = request.__dict__.get("_cached_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


def _issued_token_owner(key: str) -> int | None:
    from rest_framework.authtoken.models import Token

    return Token.objects.using(PRIMARY).filter(key=key).values_list("user_id", flat=True).first()


def _writer_keys(request: HttpRequest, response: HttpResponse) -> dict[str, int | None]:
    """Key → the account it belongs to (None: none known)."""
    user_id = _user_id(request)
    keys: dict[str, int | None] = dict.fromkeys(_sent_credential_keys(request), user_id)
    morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
    if morsel is not None and morsel.value:  # a login: the new session
        keys[_credential_key("session", morsel.value)] = user_id
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        token = data.get("token")
        if isinstance(token, str) and token:  # POST /api/auth/token/
            keys[_credential_key("token", token)] = _issued_token_owner(token)
        edit = data.get("edit_token")
        if isinstance(edit, str) and edit:
            keys[f"edit:{_digest(edit)}"] = None
    if user_id is None:
        keys[f"net:{request_ip_hash(request)}"] = None
    else:
        keys[f"user:{user_id}"] = user_id
    return keys


# --- remembering and choosing ------------------------------------------------------


def _remember(request: HttpRequest, response: HttpResponse) -> None:
    try:
        keys = _writer_keys(request, response)
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            position = lsn_to_int(cursor.fetchone()[0])
        cache.set_many(
            {KEY_PREFIX + key: (position, user) for key, user in keys.items()},
            timeout=POSITION_SECONDS,
        )
    except Exception:
        # The write stands; without its position this caller may read a lagging
        # replica until it catches up. Worth a log line, never a 500.
        logger.exception("replicas: could not remember the write position")


def _needed_position(request: HttpRequest, down_keys: list[str]) -> tuple[int, set[str]]:
    """The newest position this caller wrote, and the replicas marked down."""
    keys = [KEY_PREFIX + key for key in reader_keys(request)]
    found = cache.get_many(keys + down_keys)
    entries = [found[key] for key in keys if key in found]
    users = {user for _, user in entries if user}
    if users:
        linked = cache.get_many([f"{KEY_PREFIX}user:{user}" for user in users])
        entries.extend(linked.values())
    needed = max((position for position, _ in entries), default=0)
    return needed, {key for key in down_keys if key in found}


def _down_key(alias: str) -> str:
    return f"{KEY_PREFIX}down:{alias}"


def mark_down(alias: str, reason: str) -> None:
    seconds = settings.REPLICA_RETRY_SECONDS
    logger.warning("replicas: %s skipped for %s s: %s", alias, seconds, reason)
    with _lock:
        _down_until[alias] = time.monotonic() + seconds
        _status.pop(alias, None)
    try:
        cache.set(_down_key(alias), reason[:200], timeout=seconds)
    except Exception:
        logger.exception("replicas: could not share the down mark of %s", alias)
    try:
        connections[alias].close()
    except Exception:
        logger.debug("replicas: closing %s failed", alias, exc_info=True)


def check(alias: str) -> ReplicaStatus | None:
    """Ask the replica how far it has replayed (one query); None: it is down now."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(_CHECK_SQL)
            in_recovery, replayed, lag = cursor.fetchone()
    except DatabaseError as error:
        mark_down(alias, f"{type(error).__name__}: {error}".strip())
        return None
    if not in_recovery:
        # A promoted replica no longer follows the primary: nothing written since
        # reaches it. (So the primary itself is no replica either.)
        mark_down(alias, "not a standby (pg_is_in_recovery() is false)")
        return None
    position = lsn_to_int(replayed) if replayed else 0
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        mark_down(alias, f"{float(lag):.1f} s behind the primary")
        return None
    status = ReplicaStatus(time.monotonic(), position, float(lag))
    with _lock:
        _status[alias] = status
    return status


def choose(request: HttpRequest) -> str:
    """The database a safe request reads from (see the module doc)."""
    aliases = list(settings.REPLICA_DATABASES)
    if not aliases:
        return PRIMARY
    try:
        needed, shared_down = _needed_position(request, [_down_key(a) for a in aliases])
    except Exception:
        logger.exception("replicas: the cache does not answer; reading the primary")
        return PRIMARY
    now = time.monotonic()
    fresh_for = settings.REPLICA_CHECK_SECONDS
    with _lock:
        candidates = [
            alias
            for alias in aliases
            if _down_key(alias) not in shared_down and _down_until.get(alias, 0) <= now
        ]
        known = {alias: _status.get(alias) for alias in candidates}
    random.shuffle(candidates)
    unchecked = []
    for alias in candidates:
        status = known[alias]
        if status is not None and now - status.checked_at < fresh_for:
            if status.replayed >= needed:
                return alias
        else:
            unchecked.append(alias)
    if unchecked:
        status = check(unchecked[0])
        if status is not None and status.replayed >= needed:
            return unchecked[0]
    return PRIMARY


class ReplicaMiddleware:
    """Chooses the request's database, remembers writers, retries reads on failover."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in _SAFE_METHODS
        replica_may_serve = safe and not request.path.startswith(PRIMARY_PATHS)
        state = _RequestState(db=choose(request) if replica_may_serve else PRIMARY)
        token = _state.set(state)
        try:
            logger.debug("replicas: %s %s reads %s", request.method, request.path, state.db)
            response = self.get_response(request)
            # A refused request (4xx) wrote nothing: remembering it would let anyone
            # fill the cache with made-up credentials.
            refused = 400 <= response.status_code < 500
            if not refused and (state.wrote or not safe):
                _remember(request, response)
            return response
        finally:
            _state.reset(token)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        request._replicas_view = (view_func, view_args, view_kwargs)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        state = _state.get()
        if (
            state is None
            or state.db == PRIMARY
            or state.wrote
            or request.method not in _SAFE_METHODS
            or not isinstance(exception, _RETRIED_ERRORS)
            or not hasattr(request, "_replicas_view")
        ):
            return None
        mark_down(state.db, f"{type(exception).__name__} during a read: {exception}".strip())
        state.db = PRIMARY
        logger.debug("replicas: %s %s reads %s (retry)", request.method, request.path, PRIMARY)
        view_func, view_args, view_kwargs = request._replicas_view
        return view_func(request, *view_args, **view_kwargs)
