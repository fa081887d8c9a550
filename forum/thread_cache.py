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
"""

import secrets
import zlib
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction


def _version_key(post_id: int) -> str:
    return f"thread:v:{post_id}"


def _new_version() -> str:
    return secrets.token_hex(6)


# How long a version lives without a change. Short, because a bump made while Redis
# was unreachable is lost: after an outage a thread's pages and ETags may lag this
# long at most. A lost version only costs the thread's next reader a render.
VERSION_SECONDS = 600


def current(post_id: int) -> str | None:
    """The post's current version, if it has one (one cache read)."""
    return cache.get(_version_key(post_id))


def create(post_id: int) -> str:
    """Give the post a version (unless another reader just did) and return it."""
    key = _version_key(post_id)
    cache.add(key, _new_version(), timeout=VERSION_SECONDS)
    value = cache.get(key)
    if value is None:  # a cache that keeps nothing (dummy://, or down): a new one each time
        value = _new_version()
    return value


def bump(post_id: int) -> None:
    """Retire every cached page and ETag of the post's thread (its version goes; the
    next reader that finds the post published makes a new one)."""
    cache.delete(_version_key(post_id))


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


def page_key(post_id: int, post_version: str, params: str) -> str:
    return f"thread:p:{post_id}:{post_version}:{params}"


def enabled() -> bool:
    return settings.FORUM["THREAD_CACHE_SECONDS"] > 0


def get_page(key: str) -> Any:
    return cache.get(key) if enabled() else None


def set_page(key: str, value: Any) -> None:
    if enabled():
        cache.set(key, value, timeout=settings.FORUM["THREAD_CACHE_SECONDS"])
