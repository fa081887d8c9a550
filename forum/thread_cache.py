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

A version that falls out of the cache is replaced by a fresh random token (never a
counter that could come back to an old value), which merely retires the pages
cached under the lost one. Pages expire after ``FORUM["THREAD_CACHE_SECONDS"]``
anyway (0 turns page caching off; versions and ETags still work).
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


def version(post_id: int) -> str:
    """The post's current version (one cache read; three when it must be created)."""
    key = _version_key(post_id)
    value = cache.get(key)
    if value is None:
        cache.add(key, _new_version(), timeout=None)
        value = cache.get(key)
        if value is None:  # a cache that keeps nothing (dummy://): a new one each time
            value = _new_version()
    return value


def bump(post_id: int) -> None:
    """Retire every cached page and ETag of the post's thread."""
    cache.set(_version_key(post_id), _new_version(), timeout=None)


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
