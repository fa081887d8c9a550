"""Public thread pages in the shared cache (``CACHE_URL``: Redis in production).

Each post has a **version**, a random token kept in the cache. A rendered thread page
is stored under the post's current version, and a page's ``ETag`` is made from it,
so changing the version retires every cached page and every ``ETag`` of the thread
at once; nothing is ever deleted or scanned for. ``forum.services`` changes the
version through ``thread_changed`` (``bump`` once the transaction commits) whenever
what the public sees of the thread changes: a comment shown, hidden, edited or turned
into a tombstone, an author's name changed, and any change of the post itself (its
status, its text, its deletion). Every forum service that makes such a change calls
it explicitly; no signal receiver does. A comment held for moderation is not public,
changes nothing and bumps nothing.

``bump`` deletes the version; the next read makes a fresh random one (never a
counter that could come back to an old value), which retires the pages cached
under the lost one. Pages expire after ``FORUM["THREAD_CACHE_SECONDS"]`` (0 turns
page caching off; versions and ETags still work), versions after
``VERSION_SECONDS``.

The cache's size is bounded by the content, not by the requests
(``forum.api.thread``): the read that finds no version makes one (``create``)
before it renders (so a change committed meanwhile retires what it renders), and
deletes it again when the post does not exist or is not published; unpublishing or
deleting a post bumps it, deleting its version. So no key outlives a request for a
post the public cannot read;
every key expires; and only a fixed set of page variants per post is cached, so a
post holds at most ``forum.api.thread.MAX_CACHED_PAGES`` pages and one version.

One read serves a request: the version and the page (one key per post and page
variant, whose bytes begin with the version they were rendered under) come back
together from one ``MGET`` (``version_and_page``), and the page is used only when
its version is the current one. A process keeps the pages it served last
(``local_pages``, bounded, decoded): when it holds the page, the one read is the
version alone, and the page's bytes need not cross from Redis again; and the version
itself is kept by the process until Redis pushes word that it changed
(``forum.version_reader``, ``FORUM["THREAD_VERSION_TRACKING"]``): then no read at
all. A page rendered while a change commits carries the version read before the
render, which the change has already retired: it is never served. In Redis both are
raw bytes (no pickling); ``forum.api.thread`` lays out the page. Redis unreachable is
a cache miss here too (as ``IGNORE_EXCEPTIONS`` makes it for the cache API): no
version, no page.
"""

import contextlib
import re
import secrets
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from forum.version_reader import VersionReader

_VERSION = re.compile(rb"[0-9a-f]{12}")


def _version_key(post_id: int) -> str:
    return f"thread:v:{post_id}"


def _new_version() -> str:
    return secrets.token_hex(6)


# How long a version lives without a change. Short, because a bump made while Redis
# was unreachable is lost: after an outage a thread's pages and ETags may lag this
# long at most. A lost version only costs the thread's next reader a render.
VERSION_SECONDS = 600


def _redis():
    """The redis-py client behind the cache when it is django-redis, else None.

    Versions and pages go to Redis as raw bytes through it (django-redis would
    pickle them), under the cache's own key names (``cache.make_key``: prefix and
    key version), so ``delete_pattern`` and ``keys`` of the cache still see them.
    """
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    return get_client(write=True) if get_client is not None else None


def _decode_version(raw: Any) -> str | None:
    if isinstance(raw, bytes):
        return raw.decode() if _VERSION.fullmatch(raw) else None  # anything else: none
    return raw


_versions = VersionReader()


def current(post_id: int) -> str | None:
    """The post's current version, if it has one: one cache read, or none when this
    process read it before and Redis has not said it changed since
    (``forum.version_reader``)."""
    redis = _redis()
    if redis is None:
        return cache.get(_version_key(post_id))
    raw_key = cache.make_key(_version_key(post_id))
    if settings.FORUM["THREAD_VERSION_TRACKING"]:
        with contextlib.suppress(RedisError):  # refused or unreachable: the plain read
            return _decode_version(_versions.get(raw_key, redis))
    try:
        return _decode_version(redis.get(raw_key))
    except RedisError:
        return None


def create(post_id: int) -> str:
    """Give the post a version (unless another reader just did) and return it."""
    key = _version_key(post_id)
    redis = _redis()
    if redis is None:
        cache.add(key, _new_version(), timeout=VERSION_SECONDS)
        value = cache.get(key)
    else:
        raw_key = cache.make_key(key)
        try:
            fresh = _new_version()
            if redis.set(raw_key, fresh, nx=True, ex=VERSION_SECONDS):
                value = fresh
            else:
                value = _decode_version(redis.get(raw_key))
                if value is None:  # something unreadable there: replace it
                    redis.set(raw_key, fresh, ex=VERSION_SECONDS)
                    value = fresh
        except RedisError:
            value = None
        _versions.forget(raw_key)  # this process reads what it made at once
    if value is None:  # a cache that keeps nothing (dummy://, or down): a new one each time
        value = _new_version()
    return value


def bump(post_id: int) -> None:
    """Retire every cached page and ETag of the post's thread (its version goes; the
    next reader that finds the post published makes a new one)."""
    redis = _redis()
    if redis is None:
        cache.delete(_version_key(post_id))
        return
    raw_key = cache.make_key(_version_key(post_id))
    with contextlib.suppress(RedisError):  # lost, as with the cache API: versions expire
        redis.delete(raw_key)
    _versions.forget(raw_key)  # this process reads the change at once, whatever Redis says


class _LocalPages:
    """The pages this process served last, by post and page parameters, decoded
    (``store_page``'s ``page``: ready to send, each naming the version it was
    rendered under), up to ``FORUM["THREAD_LOCAL_CACHE_MB"]`` of their stored size
    (least recently used out first). Only ever served after the shared cache said
    that version is current, so it is never staler than the shared cache; it saves
    moving the page's bytes out of Redis, and decoding them, on every request."""

    def __init__(self) -> None:
        self.pages: OrderedDict[tuple[int, str], tuple[Any, int]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> Any:
        with self.lock:
            found = self.pages.get(key)
            if found is None:
                return None
            self.pages.move_to_end(key)
            return found[0]

    def put(self, key: tuple[int, str], page: Any, size: int) -> None:
        limit = settings.FORUM["THREAD_LOCAL_CACHE_MB"] * 1024 * 1024
        with self.lock:
            old = self.pages.pop(key, None)
            if old is not None:
                self.size -= old[1]
            if size > limit // 4:  # one page never crowds out the rest
                return
            self.pages[key] = (page, size)
            self.size += size
            while self.size > limit:
                self.size -= self.pages.popitem(last=False)[1][1]

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.size = 0


local_pages = _LocalPages()


def version_and_page(
    post_id: int, params: str, *, decode: Callable[[bytes], Any]
) -> tuple[str | None, Any]:
    """The post's current version (None: it has none, the caller creates one) and
    a page stored for ``params`` (None when there is none), in one cache round trip.

    Pages are stored as bytes and come back decoded (``decode``: the page, with the
    ``version`` it was rendered under, or None for bytes of another layout). When
    this process holds a page for ``params`` (``local_pages``), the round trip is the
    version alone (``GET``), and that page comes back if it was rendered under it;
    otherwise the version and the shared cache's page come together (``MGET``; a
    second read only when the local page was stale). A page from the shared cache
    may be of any version: the caller serves it only if it is the current one.
    """
    if not enabled():
        return current(post_id), None
    local = local_pages.get((post_id, params))
    if local is not None:
        value = current(post_id)
        if value is None:
            return None, None
        if local.version == value:
            return value, local
        # Stale here (the thread changed, another process rendered it anew): the
        # shared cache's page, kept here too when current, or every later request
        # would read and decode it again.
        raw = shared_page(post_id, params)
        page = None if raw is None else decode(raw)
        if page is not None and page.version == value:
            local_pages.put((post_id, params), page, len(raw))
        return value, page
    keys = [_version_key(post_id), _page_key(post_id, params)]
    redis = _redis()
    if redis is not None:
        try:
            raw_version, raw = redis.mget([cache.make_key(key) for key in keys])
        except RedisError:
            return None, None
        value = _decode_version(raw_version)
    else:
        found = cache.get_many(keys)
        value, raw = found.get(keys[0]), found.get(keys[1])
    if value is None:
        return None, None
    page = None if raw is None else decode(raw)
    if page is not None and page.version == value:
        local_pages.put((post_id, params), page, len(raw))
    return value, page


def shared_page(post_id: int, params: str) -> bytes | None:
    """The page the shared cache holds for ``params`` (any version), or None."""
    if not enabled():
        return None
    key = _page_key(post_id, params)
    redis = _redis()
    if redis is None:
        return cache.get(key)
    try:
        return redis.get(cache.make_key(key))
    except RedisError:
        return None


def store_page(post_id: int, params: str, raw: bytes, page: Any) -> None:
    """Keep a rendered page for ``FORUM["THREAD_CACHE_SECONDS"]``: its bytes
    (``raw``, which name the version they were rendered under) in the shared cache,
    and ``page``, the same decoded, in this process's ``local_pages``."""
    if not enabled():
        return
    key = _page_key(post_id, params)
    timeout = settings.FORUM["THREAD_CACHE_SECONDS"]
    redis = _redis()
    if redis is not None:
        with contextlib.suppress(RedisError):  # not kept: a cache miss next time
            redis.set(cache.make_key(key), raw, ex=timeout)
    else:
        cache.set(key, raw, timeout=timeout)
    local_pages.put((post_id, params), page, len(raw))


def thread_changed(*, post_id: int) -> None:
    """What the public sees of the post's thread changed: once the transaction
    commits, retire the thread's cached pages and ETags (``bump``).

    Not before: a page read in between is still rendered from the committed rows
    (and a rolled-back change retires nothing, as it should).
    """
    transaction.on_commit(partial(bump, post_id))


def threads_changed(*, post_ids: Iterable[int]) -> None:
    for post_id in set(post_ids):
        thread_changed(post_id=post_id)


def etag(post_id: int, post_version: str, url: str) -> str:
    """The strong ETag of the page at ``url`` (its absolute URI) for this version."""
    return f'"{post_id}-{post_version}-{zlib.crc32(url.encode()):08x}"'


def _page_key(post_id: int, params: str) -> str:
    return f"thread:page:{post_id}:{params}"


def enabled() -> bool:
    return settings.FORUM["THREAD_CACHE_SECONDS"] > 0
