"""The thread read's output stays byte for byte what it was before the cached page
became raw bytes with a spliced gzip body (issue 15): every page the API sends,
uncached, from the cache and gzip-decoded, is compared with what the previous
``forum.api.thread`` sent (``_previous_body``: the selector's results dumped with
orjson in the same envelope), on the seed threads and on a synthetic
10,000-comment thread (deep subtrees, tombstones, hidden comments, edits, anonymous
comments, a DST change). The default page size is the one the cache keeps.
"""

import gzip
import math

import orjson
import pytest
from django.core.management import call_command
from django.urls import reverse

from bench.data import body_pool, build_thread, load_thread
from forum import thread_page
from forum.models import Post
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def _previous_body(post: Post, *, page: int, page_size: int, replies_limit, links) -> bytes:
    """What the previous ``forum.api.thread`` sent for a page by number: the selector's
    ``results`` (``forum.thread_page``, which this change leaves alone) through
    ``orjson.dumps``, in its envelope. ``links`` are the (next, previous) URLs, which
    this change does not touch either."""
    thread = thread_page.thread_page(
        post_id=post.pk, page_size=page_size, page=page, replies_limit=replies_limit
    )
    return b"".join(
        (
            b'{"count":',
            str(thread.count).encode(),
            b',"next":',
            orjson.dumps(links[0]),
            b',"previous":',
            orjson.dumps(links[1]),
            b',"results":',
            orjson.dumps(thread.results),
            b"}",
        )
    )


def _pages(post: Post) -> list[dict]:
    post.refresh_from_db()
    asks = []
    for page_size, replies_limit in ((50, None), (50, 0), (50, 5), (200, None), (50, 3)):
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
    assert big_post.comment_count > 8_500  # readable: a few hundred sit under hidden ones
    assert _check_every_page(api_client, big_post, cached=cached) >= 10
