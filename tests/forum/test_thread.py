"""The thread read at scale: cursors, replies_limit, the cached pages and their ETags,
the counters the thread relies on, and the statements a new comment costs."""

import contextlib
import datetime
import re
import time
import uuid
import zlib
import zoneinfo

import orjson
import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from forum import selectors, services, thread_cache, thread_page
from forum.models import Comment, CommentStatus, Post, PostStatus, RemovalKind, path_step
from tests.factories import make_comment, make_thread
from tests.forum.conftest import at

pytestmark = pytest.mark.django_db


def thread_url(post_id: int) -> str:
    return reverse("post-thread", args=[post_id])


def bodies(nodes):
    return [(node["body"], bodies(node["replies"])) for node in nodes]


def bulk_thread(post: Post, *, top_level: int, replies_per_comment: int) -> None:
    """A two-level thread written in two bulk inserts, with the paths and counters
    ``forum.services`` would write (large threads, fast)."""
    start = post.top_seq
    tops = Comment.objects.bulk_create(
        Comment(
            post=post,
            path=path_step(start + i + 1),
            body=f"Top {i}",
            status=CommentStatus.APPROVED,
            child_seq=replies_per_comment,
            reply_count=replies_per_comment,
        )
        for i in range(top_level)
    )
    Comment.objects.bulk_create(
        Comment(
            post=post,
            parent=top,
            depth=1,
            path=top.path + path_step(j + 1),
            body=f"Reply {j}",
            status=CommentStatus.APPROVED,
        )
        for top in tops
        for j in range(replies_per_comment)
    )
    Post.objects.filter(pk=post.pk).update(
        top_seq=F("top_seq") + top_level,
        top_level_count=F("top_level_count") + top_level,
        comment_count=F("comment_count") + top_level * (1 + replies_per_comment),
    )
    post.refresh_from_db()


# --- cursors ------------------------------------------------------------------


def test_cursor_pages_walk_the_thread_both_ways(api_client, tree):
    url = thread_url(tree.post.pk)
    first = api_client.get(url, {"cursor": "", "page_size": 2}).json()
    assert first["count"] == 3
    assert first["previous"] is None
    assert [node["body"] for node in first["results"]] == ["a", "b"]
    assert "cursor=" in first["next"] and "page=" not in first["next"]

    second = api_client.get(first["next"]).json()
    assert bodies(second["results"]) == [("c", [("c1", [])])]
    assert second["next"] is None
    back = api_client.get(second["previous"]).json()
    assert [node["body"] for node in back["results"]] == ["a", "b"]
    assert back["previous"] is None
    assert api_client.get(back["next"]).json()["results"] == second["results"]


def test_a_cursor_keeps_its_place_while_the_thread_grows(api_client, tree):
    url = thread_url(tree.post.pk)
    first = api_client.get(url, {"cursor": "", "page_size": 1}).json()
    make_comment(tree.post, body="d")
    make_comment(tree.post, body="a2x", parent=tree.a2)
    second = api_client.get(first["next"]).json()
    assert [node["body"] for node in second["results"]] == ["b"]
    assert second["count"] == 4


def test_cursor_beyond_the_end_gives_an_empty_page(api_client, tree):
    url = thread_url(tree.post.pk)
    last = api_client.get(url, {"cursor": "", "page_size": 3}).json()
    assert last["next"] is None
    # A cursor after the last top-level comment (it existed, then was hidden).
    c_cursor = api_client.get(url, {"cursor": "", "page_size": 2}).json()["next"]
    services.comment_set_state(
        comment=services.comment_lock(comment_id=tree.c1.pk), status=CommentStatus.REJECTED
    )
    services.comment_set_state(
        comment=services.comment_lock(comment_id=tree.c.pk), status=CommentStatus.REJECTED
    )
    response = api_client.get(c_cursor)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("cursor", ["nope", "YTAwMDAwMTIz", "YTAwMQ", "eDAwMDAwMQ", "w6kwMDAwMDE"])
def test_a_malformed_cursor_is_404(api_client, tree, cursor):
    response = api_client.get(thread_url(tree.post.pk), {"cursor": cursor})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor."}


@pytest.mark.parametrize("size", [20, 400])
def test_cursor_pages_cost_three_queries_whatever_the_thread_size(
    api_client, post, django_assert_num_queries, size
):
    bulk_thread(post, top_level=size // 2, replies_per_comment=1)
    url = thread_url(post.pk)
    first = api_client.get(url, {"cursor": "", "page_size": 4}).json()
    with django_assert_num_queries(3):  # the post and count, the page's paths, the rows
        second = api_client.get(first["next"]).json()
    assert [node["body"] for node in second["results"]] == ["Top 4", "Top 5", "Top 6", "Top 7"]


@pytest.mark.parametrize("size", [12, 3000])
def test_deep_page_numbers_cost_three_queries(api_client, post, django_assert_num_queries, size):
    bulk_thread(post, top_level=size // 2, replies_per_comment=1)
    with django_assert_num_queries(3):
        response = api_client.get(thread_url(post.pk), {"page": "last", "page_size": 2})
    results = response.json()["results"]
    assert [node["body"] for node in results] == [f"Top {size // 2 - 2}", f"Top {size // 2 - 1}"]


# --- replies_limit ------------------------------------------------------------


def test_replies_limit_sends_the_first_replies_at_any_depth(api_client, tree):
    url = thread_url(tree.post.pk)
    results = api_client.get(url, {"replies_limit": 2}).json()["results"]
    assert bodies(results) == [
        ("a", [("a1", [("a1x", [])])]),
        ("b", []),
        ("c", [("c1", [])]),
    ]
    a = results[0]
    assert (a["reply_count"], a["replies"][0]["reply_count"]) == (2, 2)


def test_replies_limit_zero_sends_top_level_comments_only(api_client, tree):
    results = api_client.get(thread_url(tree.post.pk), {"replies_limit": 0}).json()["results"]
    assert bodies(results) == [("a", []), ("b", []), ("c", [])]
    assert [node["reply_count"] for node in results] == [2, 0, 1]


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "10001"])
def test_replies_limit_must_be_a_small_non_negative_integer(api_client, tree, value):
    response = api_client.get(thread_url(tree.post.pk), {"replies_limit": value})
    assert response.status_code == 400
    assert "replies_limit" in response.json()


@pytest.mark.parametrize("size", [10, 600])
def test_replies_limit_costs_three_queries(api_client, post, django_assert_num_queries, size):
    bulk_thread(post, top_level=size // 10, replies_per_comment=9)
    with django_assert_num_queries(3):
        response = api_client.get(thread_url(post.pk), {"replies_limit": 3, "page_size": 200})
    results = response.json()["results"]
    assert len(results) == size // 10
    assert {len(node["replies"]) for node in results} == {3}
    assert {node["reply_count"] for node in results} == {9}


# --- the cache and ETags ------------------------------------------------------


@pytest.mark.thread_cache
def test_a_cached_page_costs_no_query_and_304_answers_a_current_etag(
    api_client, tree, django_assert_num_queries
):
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    etag = first["ETag"]
    assert etag and first["Cache-Control"] == "no-cache"
    with django_assert_num_queries(0):
        again = api_client.get(url)
    assert again.content == first.content
    assert again["ETag"] == etag
    with django_assert_num_queries(0):
        not_modified = api_client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert api_client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_pages_of_one_thread_have_their_own_etags(api_client, tree):
    url = thread_url(tree.post.pk)
    one = api_client.get(url, {"page_size": 1})
    two = api_client.get(url, {"page_size": 1, "page": 2})
    assert one["ETag"] != two["ETag"]
    assert (
        api_client.get(url, {"page_size": 1}, headers={"If-None-Match": two["ETag"]}).status_code
        == 200
    )


@pytest.mark.thread_cache
def test_a_new_approved_comment_is_on_the_next_read(
    api_client, tree, django_capture_on_commit_callbacks
):
    url = thread_url(tree.post.pk)
    before = api_client.get(url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_comment(tree.post, body="d")
        make_comment(tree.post, body="new", parent=tree.b)
    assert callbacks  # the thread's pages are retired when the comments commit
    after = api_client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert bodies(after.json()["results"])[1:] == [
        ("b", [("new", [])]),
        ("c", [("c1", [])]),
        ("d", []),
    ]


@pytest.mark.thread_cache
def test_the_cached_page_stays_until_the_change_commits(
    api_client, tree, django_capture_on_commit_callbacks
):
    url = thread_url(tree.post.pk)
    before = api_client.get(url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_comment(tree.post, body="d")
        # Not committed: the page cached from the committed rows is still current.
        assert api_client.get(url).content == before.content
    for callback in callbacks:
        callback()  # the commit
    assert api_client.get(url, headers={"If-None-Match": before["ETag"]}).status_code == 200


@pytest.mark.thread_cache
def test_a_pending_comment_changes_neither_the_page_nor_its_etag(
    api_client, tree, django_capture_on_commit_callbacks
):
    url = thread_url(tree.post.pk)
    before = api_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(tree.post, body="held", status=CommentStatus.PENDING)
        make_comment(tree.post, body="held reply", parent=tree.a, status=CommentStatus.PENDING)
    assert api_client.get(url, headers={"If-None-Match": before["ETag"]}).status_code == 304
    assert api_client.get(url).content == before.content


@pytest.mark.thread_cache
@pytest.mark.parametrize(
    "change",
    ["edit", "remove", "reject", "unpublish", "rename"],
)
def test_every_public_change_retires_the_cached_page(
    api_client, tree, user, moderator, change, django_capture_on_commit_callbacks
):
    url = thread_url(tree.post.pk)
    before = api_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        _change_the_thread(tree, user, moderator, change)
    after = api_client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == (404 if change == "unpublish" else 200)
    if change != "unpublish":
        assert after.content != before.content


def _change_the_thread(tree, user, moderator, change: str) -> None:
    if change == "edit":
        services.comment_update(comment=tree.b, body="b, edited", user=moderator)
    elif change == "remove":
        services.comment_set_state(
            comment=services.comment_lock(comment_id=tree.a1x.pk),
            removed=True,
            removal_kind=RemovalKind.AUTHOR,
        )
    elif change == "reject":
        services.comment_set_state(
            comment=services.comment_lock(comment_id=tree.c1.pk), status=CommentStatus.REJECTED
        )
    elif change == "unpublish":
        tree.post.status, tree.post.published_at = PostStatus.DRAFT, None
        services.post_update(post=tree.post, changed=["status", "published_at"])
    else:
        Comment.objects.filter(pk=tree.b.pk).update(author=user)
        from accounts import services as accounts_services

        accounts_services.user_update(user=user, display_name="Renamed")


def test_no_page_is_cached_with_the_cache_off(
    api_client, tree, settings, django_assert_num_queries
):
    settings.FORUM = {**settings.FORUM, "THREAD_CACHE_SECONDS": 0}
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    with django_assert_num_queries(3):
        again = api_client.get(url, headers={"If-None-Match": '"stale"'})
    assert again.content == first.content
    assert api_client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304


@pytest.fixture
def redis_cache(shared_redis):
    """Redis as the thread cache (``tests/conftest.py``: ``shared_redis``)."""
    return shared_redis


@pytest.mark.thread_cache
def test_thread_pages_and_versions_live_in_redis(
    api_client, tree, redis_cache, django_assert_num_queries, django_capture_on_commit_callbacks
):
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    assert redis_cache.keys("thread:*")  # the version and the page are in Redis
    with django_assert_num_queries(0):
        assert api_client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(tree.post, body="held", status=CommentStatus.PENDING)
    assert api_client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(tree.post, body="d")
    after = api_client.get(url, headers={"If-None-Match": first["ETag"]})
    assert after.status_code == 200
    assert [node["body"] for node in after.json()["results"]] == ["a", "b", "c", "d"]


@pytest.mark.thread_cache
def test_a_cached_page_is_one_redis_round_trip_of_raw_bytes(
    api_client, tree, redis_cache, django_assert_num_queries
):
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    raw = redis_cache.client.get_client()
    page_keys = redis_cache.keys("thread:page:*")
    assert len(page_keys) == 1
    stored = raw.get(redis_cache.make_key(page_keys[0]))
    header, _, rest = stored.partition(b"\n")
    # not pickled: the header names the version, the results follow as sent
    version = raw.get(redis_cache.make_key(f"thread:v:{tree.post.pk}"))
    assert re.fullmatch(rb"[0-9a-f]{12}", version)
    assert header.startswith(b'["' + version + b'",')
    assert first.content.endswith(rest + b"}")
    thread_cache.local_pages.clear()  # as in another process: the page is in Redis only
    with django_assert_num_queries(0), _redis_commands(raw, redis_cache.key_prefix) as seen:
        again = api_client.get(url)
    assert again.content == first.content
    assert [command[0] for command in seen] == ["MGET"]  # the version and the page
    with _redis_commands(raw, redis_cache.key_prefix) as seen:
        assert api_client.get(url).content == first.content
    assert [command[0] for command in seen] == ["GET"]  # this process holds the page now
    with _redis_commands(raw, redis_cache.key_prefix) as seen:
        assert api_client.get(url).content == first.content
        assert api_client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    # ... and the version, which Redis tracks for it: no round trip at all
    assert seen == []


@pytest.mark.thread_cache
def test_without_version_tracking_each_read_asks_redis_for_the_version(
    api_client, tree, redis_cache, settings
):
    settings.FORUM = {**settings.FORUM, "THREAD_VERSION_TRACKING": False}
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    raw = redis_cache.client.get_client()
    for _ in range(2):
        with _redis_commands(raw, redis_cache.key_prefix) as seen:
            assert api_client.get(url).content == first.content
        assert [command[0] for command in seen] == ["GET"]  # the version alone, each time


@pytest.mark.thread_cache
@pytest.mark.parametrize("change", ["bump", "new version", "expiry"])
def test_a_version_changed_by_another_process_is_seen_by_the_next_read(
    api_client, tree, redis_cache, change
):
    """The process serves the page it holds while Redis says nothing of its version;
    a change made elsewhere (another server's bump, a new version, the key's expiry)
    reaches it before its next read: never a stale page or ETag."""
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    assert api_client.get(url)["ETag"] == first["ETag"]  # held, version tracked
    other = redis.Redis.from_url("redis://127.0.0.1:6379/0")  # another server's client
    key = redis_cache.make_key(f"thread:v:{tree.post.pk}")
    if change == "bump":
        other.delete(key)
    elif change == "new version":
        other.set(key, "0123456789ab")
    else:
        other.pexpire(key, 1)
        time.sleep(0.05)
        assert other.exists(key) == 0  # expired (read by this client: deleted now)
    answer = api_client.get(url, headers={"If-None-Match": first["ETag"]})
    assert answer.status_code == 200 and answer["ETag"] != first["ETag"]
    if change == "new version":
        assert "0123456789ab" in answer["ETag"]


@pytest.mark.thread_cache
def test_a_page_this_process_holds_is_not_served_once_the_thread_changed(
    api_client, tree, redis_cache, django_capture_on_commit_callbacks
):
    url = thread_url(tree.post.pk)
    api_client.get(url)
    before = api_client.get(url)  # from this process's copy
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(tree.post, body="d")  # e.g. through another server
    after = api_client.get(url)
    assert after["ETag"] != before["ETag"]
    assert [node["body"] for node in after.json()["results"]] == ["a", "b", "c", "d"]


@pytest.mark.thread_cache
def test_a_stale_local_page_is_replaced_by_the_current_one_it_was_served_from(
    api_client, tree, redis_cache, django_capture_on_commit_callbacks
):
    """This process held the page, the thread changed, another process rendered it
    anew: the shared cache's page is served, and kept here, so the next reads are
    the version alone again (it was read from Redis and decoded on every request)."""
    url = thread_url(tree.post.pk)
    api_client.get(url)
    key = next(iter(thread_cache.local_pages.pages))
    stale = thread_cache.local_pages.get(key)
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(tree.post, body="d")
    thread_cache.local_pages.clear()  # another process renders the changed thread
    fresh = api_client.get(url)
    thread_cache.local_pages.put(key, stale, 1)  # ... while this one holds the old page
    raw = redis_cache.client.get_client()
    assert api_client.get(url).content == fresh.content
    assert thread_cache.local_pages.get(key).version != stale.version
    with _redis_commands(raw, redis_cache.key_prefix) as seen:
        assert api_client.get(url).content == fresh.content
    assert not any("thread:page:" in str(command) for command in seen), seen


def test_the_local_page_copies_stay_within_their_budget(settings):
    settings.FORUM = {**settings.FORUM, "THREAD_LOCAL_CACHE_MB": 1}
    pages = thread_cache.local_pages
    for i in range(20):
        pages.put((i, "p1:50:None"), f"page {i}", 200_000)
    assert pages.size <= 1024 * 1024 and len(pages.pages) == 5
    assert pages.get((19, "p1:50:None")) is not None and pages.get((0, "p1:50:None")) is None
    pages.put((99, "big"), "big page", 300_000)  # over a quarter of the budget: not kept
    assert pages.get((99, "big")) is None


@contextlib.contextmanager
def _redis_commands(raw, prefix: str):
    """The commands Redis executes on keys under ``prefix`` meanwhile (MONITOR, ended
    by a marker command read back on the same stream)."""
    seen: list[list[str]] = []
    marker = f"{prefix}:monitor-end:{uuid.uuid4().hex}"
    with raw.monitor() as monitor:
        yield seen
        raw.get(marker)
        while True:
            command = monitor.next_command()["command"].split()
            if marker in command:
                break
            if any(prefix in part for part in command):
                seen.append(command)


@pytest.mark.thread_cache
def test_a_page_of_unknown_layout_in_the_cache_is_rendered_anew(api_client, tree):
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    for key in list(caches["default"]._cache):
        if ":thread:page:" in key:
            caches["default"].set(key.split(":", 2)[2], b"not a page")
    again = api_client.get(url)
    assert again.status_code == 200 and again.content == first.content


def _page_bytes(version: str, header_tail: str, body: bytes = b"[]") -> bytes:
    return f'["{version}",1,1,false,false,null,null,{header_tail}'.encode() + b"\n" + body


# Values under a page's key naming the current version but not laid out as a page
# (another release's layout, a damaged value): each was a 500 or sent as JSON.
DAMAGED_PAGES = {
    "a number for the gzip tail": lambda v: _page_bytes(v, "2,5]"),
    "a text for the size": lambda v: _page_bytes(v, '"a",null]'),
    "a negative size": lambda v: _page_bytes(v, "-5,null]"),
    "a text for the count": lambda v: _page_bytes(v, "2,null]").replace(b",1,1,", b',"x",1,'),
    "a size shorter than the results": lambda v: _page_bytes(v, "1,null]", b"[1]"),
    "a size longer than the results": lambda v: _page_bytes(v, "9,null]"),
    "a gzip tail of the wrong length": lambda v: _page_bytes(v, "2,[1,3,3,[1]]]", b"[]xx"),
    "one score of two": lambda v: _page_bytes(v, "2,null,5]"),
}


@pytest.mark.thread_cache
@pytest.mark.parametrize("damage", DAMAGED_PAGES.values(), ids=DAMAGED_PAGES.keys())
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_page_value_not_laid_out_as_a_page_is_rendered_anew(api_client, tree, damage, encoding):
    url = thread_url(tree.post.pk)
    first = api_client.get(url)
    version = thread_cache.current(tree.post.pk)
    caches["default"].set(f"thread:page:{tree.post.pk}:1:None", damage(version))
    thread_cache.local_pages.clear()  # as a process that does not hold the page
    again = api_client.get(url, HTTP_ACCEPT_ENCODING=encoding)
    assert again.status_code == 200
    body = _gunzip(again) if encoding == "gzip" else again.content
    assert body == first.content


def _gunzip(response) -> bytes:
    decoder = zlib.decompressobj(wbits=31)
    content = decoder.decompress(response.content)
    assert decoder.eof and not decoder.unused_data
    return content


@pytest.mark.thread_cache
def test_clients_that_accept_gzip_get_the_same_page_gzip_coded(
    api_client, tree, moderator, django_assert_num_queries, django_capture_on_commit_callbacks
):
    tree.post.refresh_from_db()
    bulk_thread(tree.post, top_level=120, replies_per_comment=1)
    url = thread_url(tree.post.pk)
    gz = {"Accept-Encoding": "gzip, deflate, br"}
    plain = api_client.get(url, {"page": 2})
    assert "Content-Encoding" not in plain
    assert "Accept-Encoding" in plain["Vary"]
    coded = api_client.get(url, {"page": 2}, headers=gz)
    assert coded["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in coded["Vary"]
    assert _gunzip(coded) == plain.content
    assert len(coded.content) < len(plain.content)
    assert coded["ETag"] != plain["ETag"]  # another representation, another strong tag
    with django_assert_num_queries(0):
        again = api_client.get(url, {"page": 2}, headers=gz)
        assert again.content == coded.content
        for tag in (plain["ETag"], coded["ETag"]):
            held = api_client.get(url, {"page": 2}, headers={**gz, "If-None-Match": tag})
            assert held.status_code == 304 and held["ETag"] == coded["ETag"]
    # links are made for each request's own URL, around the cached compressed tail
    other = api_client.get(url, {"page": 2, "x": "1"}, headers=gz)
    assert orjson.loads(_gunzip(other))["next"].endswith("?page=3&x=1")
    # a variant the cache does not keep is sent as it is
    assert "Content-Encoding" not in api_client.get(url, {"page_size": 5}, headers=gz)
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_update(comment=tree.b, body="b, edited", user=moderator)
    after = api_client.get(url, headers={**gz, "If-None-Match": coded["ETag"]})
    assert after.status_code == 200 and after["Content-Encoding"] == "gzip"
    assert orjson.loads(_gunzip(after))["results"][1]["body"] == "b, edited"


@pytest.mark.thread_cache
@pytest.mark.parametrize("header", ["gzip;q=0", "identity", "br"])
def test_clients_that_refuse_gzip_get_the_page_as_it_is(api_client, tree, header):
    make_thread(tree.post, top_level=10, replies_per_comment=1)
    response = api_client.get(thread_url(tree.post.pk), headers={"Accept-Encoding": header})
    assert "Content-Encoding" not in response
    assert orjson.loads(response.content)["count"] == 13


@pytest.mark.thread_cache
def test_django_gzip_middleware_does_not_compress_the_page_twice(api_client, tree, settings):
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    make_thread(tree.post, top_level=10, replies_per_comment=1)
    url = thread_url(tree.post.pk)
    coded = api_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert coded["Content-Encoding"] == "gzip"
    assert orjson.loads(_gunzip(coded)) == api_client.get(url).json()


# --- what the thread shows ----------------------------------------------------


def test_thread_timestamps_are_the_flat_lists_across_dst_and_with_microseconds(api_client, post):
    moments = [
        datetime.datetime(2025, 1, 15, 9, 30, tzinfo=datetime.UTC),
        datetime.datetime(2025, 3, 30, 0, 59, 59, 999999, tzinfo=datetime.UTC),
        datetime.datetime(2025, 3, 30, 1, 0, 0, 1, tzinfo=datetime.UTC),
        datetime.datetime(2025, 7, 15, 23, 30, 5, 120000, tzinfo=datetime.UTC),
        datetime.datetime(2025, 10, 26, 0, 30, tzinfo=datetime.UTC),
        datetime.datetime(2025, 10, 26, 1, 30, tzinfo=datetime.UTC),
    ]
    for i, moment in enumerate(moments):
        comment = make_comment(post, body=f"c{i}", created_at=moment)
        Comment.objects.filter(pk=comment.pk).update(edited_at=moment + datetime.timedelta(days=i))
    for tz in ("Europe/London", "Asia/Kolkata", "UTC"):
        with timezone.override(zoneinfo.ZoneInfo(tz)):
            thread = api_client.get(thread_url(post.pk), {"page_size": 10}).json()["results"]
            flat = api_client.get(reverse("comment-list"), {"post": post.pk}).json()["results"]
        stamps = [(c["created_at"], c["edited_at"]) for c in flat]
        assert [(c["created_at"], c["edited_at"]) for c in thread] == stamps
        caches["default"].clear()
    assert stamps[3] == ("2025-07-15T23:30:05.120000Z", "2025-07-18T23:30:05.120000Z")


@pytest.mark.parametrize(
    "raw",
    [
        "2025-01-15 09:30:00",
        "2025-07-15 09:30:00.123456",
        "2025-07-15 09:30:00.000000",
        "2025-03-30 00:59:59.999999",
        "2025-03-30 01:00:00",
        "2025-10-26 00:59:59",
        "2025-10-26 01:00:00.5",
        "1890-06-01 12:00:00",
        "2025-07-15T09:30:00+00:00",
    ],
)
@pytest.mark.parametrize("tz", ["Europe/London", "Asia/Kathmandu", "America/St_Johns", "UTC"])
def test_utc_text_formatter_writes_what_iso_datetime_writes(raw, tz):
    zone = zoneinfo.ZoneInfo(tz)
    value = datetime.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    formatter = thread_page.UtcTextFormatter(zone)
    assert formatter(raw) == selectors.iso_datetime(value, zone)
    assert formatter(raw) == selectors.iso_datetime(value, zone)  # from the minute cache


# --- counters -----------------------------------------------------------------


def test_top_level_count_follows_what_the_public_sees(post):
    def count() -> int:
        post.refresh_from_db()
        return post.top_level_count

    a = make_comment(post, body="a")
    b = make_comment(post, body="b")
    make_comment(post, body="held", status=CommentStatus.PENDING)
    reply = make_comment(post, body="reply", parent=a)
    assert count() == 2
    services.comment_set_state(comment=services.comment_lock(comment_id=b.pk), removed=True)
    assert count() == 1  # removed without replies: hidden
    services.comment_set_state(comment=services.comment_lock(comment_id=a.pk), removed=True)
    assert count() == 1  # a tombstone still heads its replies
    services.comment_set_state(
        comment=services.comment_lock(comment_id=reply.pk), status=CommentStatus.SPAM
    )
    assert count() == 0  # the tombstone lost its last visible reply
    assert thread_page.thread_page(post_id=post.pk, page=1, page_size=10).count == 0
    services.comment_set_state(
        comment=services.comment_lock(comment_id=reply.pk), status=CommentStatus.APPROVED
    )
    assert count() == 1


def test_a_reply_to_a_parent_removed_meanwhile_is_refused(post):
    parent = make_comment(post, body="parent")
    stale = Comment.objects.get(pk=parent.pk)
    services.comment_set_state(comment=services.comment_lock(comment_id=parent.pk), removed=True)
    with pytest.raises(services.InvalidInput):
        make_comment(post, body="reply", parent=stale)
    post.refresh_from_db()
    assert (post.comment_count, Comment.objects.filter(post=post).count()) == (0, 1)


# --- writes -------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 3000])
def test_a_reply_costs_the_same_statements_whatever_the_thread_size(
    post, django_assert_num_queries, size
):
    bulk_thread(post, top_level=size // 2, replies_per_comment=1)
    parent = Comment.objects.filter(post=post, depth=1).order_by("-path").first()
    # the parent's step and counter, the post's counter, the insert, its event
    # (forum.events; inside the test's transaction: no savepoint of its own); on
    # PostgreSQL the insert also asks again about the parent's ancestors
    with django_assert_num_queries(4):
        reply = services.comment_create(
            post=post, body="A reply.", parent=parent, status=CommentStatus.APPROVED
        )
    assert reply.path == parent.path + "000001"
    top = services.comment_create(post=post, body="Top.", status=CommentStatus.APPROVED)
    assert top.path == path_step(size // 2 + 1)


@pytest.mark.parametrize("size", [10, 3000])
def test_posting_a_reply_over_the_api_costs_the_same_statements_whatever_the_thread_size(
    api_client, post, settings, django_assert_num_queries, size
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_anon": []}  # not measured here
    bulk_thread(post, top_level=size // 2, replies_per_comment=1)
    parent = Comment.objects.filter(post=post, depth=1).order_by("path").first()
    # the post, the parent, the repeat check, then the reply's three statements (the
    # insert asking again about its ancestors on PostgreSQL) and its event
    with django_assert_num_queries(7):
        response = api_client.post(
            thread_url(post.pk), {"body": "A reply.", "parent": parent.pk}, format="json"
        )
    assert response.status_code == 201, response.json()
    post.refresh_from_db()
    assert post.comment_count == size + 1


@pytest.mark.parametrize("async_commit", [False, True])
def test_a_reply_commits_asynchronously_on_postgresql_only_when_configured(
    api_client, post, settings, django_assert_num_queries, async_commit
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_anon": []}
    settings.FORUM = {**settings.FORUM, "ASYNC_COMMENT_COMMIT": async_commit}
    parent = make_comment(post, body="parent")
    on_postgres = connection.vendor == "postgresql"
    # the post, the parent, the repeat check, then the reply's three statements and
    # its event, and on PostgreSQL with FORUM_ASYNC_COMMENT_COMMIT the SET LOCAL first
    with django_assert_num_queries(7 + (async_commit and on_postgres)):
        response = api_client.post(
            thread_url(post.pk), {"body": "A reply.", "parent": parent.pk}, format="json"
        )
    assert response.status_code == 201
    if on_postgres:  # the test's transaction is the reply's: SET LOCAL still holds
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == ("off" if async_commit else "on")


def test_comments_created_at_given_times_sort_by_path_not_time(post):
    late = make_comment(post, body="late", created_at=at(10))
    early = make_comment(post, body="early", created_at=at(0))
    page = thread_page.thread_page(post_id=post.pk, page=1, page_size=10)
    assert [node["id"] for node in page.results] == [late.pk, early.pk]


def test_make_thread_matches_bulk_thread_counters(post, blog):
    from tests.factories import PostFactory

    other = PostFactory(blog=blog)
    make_thread(post, top_level=3, replies_per_comment=2)
    bulk_thread(other, top_level=3, replies_per_comment=2)
    post.refresh_from_db()
    fields = ("top_seq", "top_level_count", "comment_count")
    assert [getattr(post, f) for f in fields] == [getattr(other, f) for f in fields]


# --- indexes ------------------------------------------------------------------


def _plan(sql: str) -> str:
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A test table is tiny and its statistics depend on what ran before: let the
            # planner choose among index scans only, which is what matters here.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(explain + sql)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_the_thread_queries_use_their_indexes(post):
    """EXPLAIN each of the thread's queries, as thread_page sends them, on this
    database: the page's top-level paths come from the partial index of public
    top-level comments, the rows from one range scan of (post, path)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_thread(post, top_level=50, replies_per_comment=2)
    with CaptureQueriesContext(connection) as queries:
        thread_page.thread_page(post_id=post.pk, page=2, page_size=10)
        thread_page.thread_page(post_id=post.pk, page=None, after="000010", page_size=10)
        thread_page.thread_page(post_id=post.pk, page=None, before="000030", page_size=10)
        thread_page.thread_page(post_id=post.pk, page=1, page_size=10, replies_limit=1)
    sent = [q["sql"] for q in queries.captured_queries if "forum_comment" in q["sql"]]
    tops = [_plan(sql) for sql in sent if sql.startswith("SELECT path")]
    rows = [_plan(sql) for sql in sent if not sql.startswith("SELECT path")]
    assert len(tops) == 4 and len(rows) == 4
    assert all("comment_public_top_idx" in plan for plan in tops), tops
    if connection.vendor == "sqlite":
        # PostgreSQL's choice for the rows depends on the table's size and statistics
        # (bench/explain.py records it on the bench data); SQLite's does not.
        assert all("autoindex" in plan for plan in rows), rows
    if connection.vendor == "postgresql":  # ordered by the index: no sort, no scan
        assert not any("Sort" in plan or "Seq Scan" in plan for plan in tops), tops


def test_posting_to_a_missing_post_or_under_a_missing_parent(api_client, post, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_anon": []}
    missing_post = api_client.post(thread_url(2**70), {"body": "Hi."}, format="json")
    assert missing_post.status_code == 404
    for parent in (2**40, 2**70):
        response = api_client.post(
            thread_url(post.pk), {"body": f"Hi {parent}.", "parent": parent}, format="json"
        )
        assert response.status_code == 400
        assert "parent" in response.json()


@pytest.mark.thread_cache
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("coding", ["identity", "gzip"])
def test_a_cached_page_sent_in_parts_arrives_whole_over_a_real_server(
    live_server, api_client, tree, coding
):
    """The page goes out as its parts (never joined): over a real HTTP server the
    declared length is what arrives, and the body is the page, rendered or cached."""
    import http.client

    make_thread(tree.post, top_level=60, replies_per_comment=2)
    path = thread_url(tree.post.pk)
    expected = api_client.get(path).json()
    for _ in range(3):  # rendered, then from the cache (shared, then this process's)
        conn = http.client.HTTPConnection(
            live_server.thread.host, live_server.thread.port, timeout=10
        )
        conn.request("GET", path, headers={"Accept-Encoding": coding, "Host": "localhost"})
        answer = conn.getresponse()
        body = answer.read()
        conn.close()
        assert answer.status == 200
        assert int(answer.getheader("Content-Length")) == len(body)
        if coding == "gzip":
            assert answer.getheader("Content-Encoding") == "gzip"
            decoder = zlib.decompressobj(wbits=31)
            body = decoder.decompress(body)
            assert decoder.eof and not decoder.unused_data
        page = orjson.loads(body)
        assert page["results"] == expected["results"] and page["count"] == expected["count"]
