"""The thread read's output stays byte for byte what it was before the cached page
became raw bytes with a spliced gzip body (issue 15): every page the API sends,
uncached, from the cache and gzip-decoded, is compared with the previous
implementation's bytes, kept below (``_previous_nest``: ``forum.thread_page._nest``
as it was, and the envelope ``forum.api.thread`` wrapped around it), on the seed
threads and on a synthetic 10,000-comment thread (deep subtrees, tombstones, hidden
comments, edits, anonymous comments, a DST change).

When the thread's output changes on purpose (new fields), change the copy with it.
"""

import datetime
import gzip
import math
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bench.data import body_pool, build_thread, load_thread
from forum import thread_page
from forum.display import author_display
from forum.models import Post
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def _previous_nest(rows: list[tuple], post_id: int, tz: datetime.tzinfo) -> list[dict[str, Any]]:
    """``forum.thread_page._nest`` before issue 15, verbatim but for names."""
    timestamp = thread_page.UtcTextFormatter(tz)
    hours = timestamp.hours
    results: list[dict[str, Any]] = []
    nodes: dict[int, dict[str, Any]] = {}
    shown: dict[str, tuple[str | None, str, bool]] = {}
    approved = "approved"
    for (
        comment_id,
        parent_id,
        depth,
        name,
        body,
        body_html,
        removed,
        created_at,
        edited_at,
        reply_count,
    ) in rows:
        if parent_id is None:
            siblings = results
        else:
            parent = nodes.get(parent_id)
            if parent is None:
                continue
            siblings = parent["replies"]
        removed = bool(removed)
        parts = hours.get(created_at[:13])
        if parts is not None and len(created_at) in (19, 26):
            fraction = created_at[19:]
            created = parts[0] + created_at[13:19] + ("" if fraction == ".000000" else fraction)
            created += parts[1]
        else:
            created = timestamp(created_at)
        author = shown.get(name)
        if author is None:
            author = shown[name] = author_display(name)
        node = {
            "id": comment_id,
            "post": post_id,
            "parent": parent_id,
            "depth": depth,
            "author_name": author[0],
            "display_name": author[1],
            "is_anonymous": author[2],
            "body": None if removed else body,
            "body_html": None if removed else body_html,
            "status": approved,
            "removed": removed,
            "created_at": created,
            "edited_at": None if edited_at is None else timestamp(edited_at),
            "reply_count": reply_count,
            "replies": [],
        }
        nodes[comment_id] = node
        siblings.append(node)
    return results


def _previous_body(post: Post, *, page: int, page_size: int, replies_limit, links) -> bytes:
    """The previous implementation's response body for a page by number: its rows
    (the same three queries), ``_previous_nest``, ``orjson.dumps`` and the envelope.
    ``links`` are the (next, previous) URLs, which this change does not touch."""
    count = post.top_level_count
    offset = (page - 1) * page_size
    with connection.cursor() as cursor:
        paths = thread_page._top_paths(
            cursor, post_id=post.pk, limit=page_size + 1, offset=offset, after=None, before=None
        )
        end = paths[page_size] if len(paths) > page_size else None
        paths = paths[:page_size]
        results = b"[]"
        if paths:
            params: list[Any] = [post.pk, paths[0]] + ([end] if end is not None else [])
            if replies_limit:
                params.append(replies_limit + 1)
            cursor.execute(
                thread_page._thread_rows_sql(bounded=end is not None, replies_limit=replies_limit),
                params,
            )
            rows = cursor.fetchall()
            results = orjson.dumps(_previous_nest(rows, post.pk, timezone.get_current_timezone()))
    return b"".join(
        (
            b'{"count":',
            str(count).encode(),
            b',"next":',
            orjson.dumps(links[0]),
            b',"previous":',
            orjson.dumps(links[1]),
            b',"results":',
            results,
            b"}",
        )
    )


def _pages(post: Post) -> list[dict]:
    post.refresh_from_db()
    asks = []
    for page_size, replies_limit in ((50, None), (200, None), (50, 3), (20, 0)):
        last = max(1, math.ceil(post.top_level_count / page_size))
        for page in sorted({1, 2, last} & set(range(1, last + 1))):
            asks.append({"page": page, "page_size": page_size, "replies_limit": replies_limit})
    return asks


def _check_every_page(api_client, post: Post, *, cached: bool) -> int:
    url = reverse("post-thread", args=[post.pk])
    checked = 0
    for ask in _pages(post):
        query = {k: v for k, v in ask.items() if v is not None}
        sent = api_client.get(url, query)
        assert sent.status_code == 200
        data = sent.json()
        expected = _previous_body(post, **ask, links=(data["next"], data["previous"]))
        assert sent.content == expected, ask
        if cached:
            again = api_client.get(url, query)  # from the cache's bytes
            assert again.content == expected, ask
            coded = api_client.get(url, query, headers={"Accept-Encoding": "gzip"})
            if coded.get("Content-Encoding") == "gzip":
                assert gzip.decompress(coded.content) == expected, ask
            else:
                assert coded.content == expected, ask
        checked += 1
    return checked


@pytest.fixture
def seed_posts(db):
    call_command("import_seeds", stdout=None)
    return list(Post.objects.filter(blog__slug="on-probation"))


@pytest.fixture
def big_post(blog):
    post = PostFactory(blog=blog)
    pool = body_pool()
    load_thread(post, build_thread("deep", 10_000, seed=15, n_bodies=len(pool)), pool)
    return post


@pytest.mark.parametrize("cached", [False, True])
def test_seed_thread_pages_are_byte_for_byte_the_previous_output(
    api_client, seed_posts, settings, cached
):
    if cached:
        settings.FORUM = {**settings.FORUM, "THREAD_CACHE_SECONDS": 600}
    assert seed_posts
    assert sum(_check_every_page(api_client, post, cached=cached) for post in seed_posts) > 5


@pytest.mark.parametrize("cached", [False, True])
def test_a_10000_comment_thread_pages_are_byte_for_byte_the_previous_output(
    api_client, big_post, settings, cached
):
    if cached:
        settings.FORUM = {**settings.FORUM, "THREAD_CACHE_SECONDS": 600}
    big_post.refresh_from_db()
    assert big_post.comment_count > 9_000
    assert _check_every_page(api_client, big_post, cached=cached) >= 10
