"""The thread cache's size is bounded by the content, not by the requests: no key
for a post that does not exist or is not published, every key expires, and at most
``MAX_CACHED_PAGES`` pages (plus one version) per post, whatever variants are asked
for. Checked in Redis, the production cache, through the API."""

import pytest
from django.urls import reverse

from forum import posts
from forum.api.thread import MAX_CACHED_PAGES
from forum.models import PostStatus
from tests.factories import PostFactory, make_comment

pytestmark = [pytest.mark.django_db, pytest.mark.thread_cache]


def thread_url(post_id: int) -> str:
    return reverse("post-thread", args=[post_id])


@pytest.fixture
def thread(post):
    for i in range(7):
        top = make_comment(post, body=f"top {i}")
        for j in range(3):
            make_comment(post, body=f"reply {i}.{j}", parent=top)
    return post


@pytest.mark.parametrize("status", [PostStatus.PENDING, PostStatus.REJECTED])
def test_no_key_for_a_missing_or_unpublished_post(api_client, shared_redis, blog, status):
    hidden = PostFactory(blog=blog, status=status)
    for post_id in [hidden.pk, 999_999, 1, 2**62]:
        if post_id == 1 and hidden.pk == 1:
            continue
        for headers in ({}, {"If-None-Match": "*"}, {"If-None-Match": '"1-abc-00000000"'}):
            response = api_client.get(thread_url(post_id), headers=headers)
            assert response.status_code == 404
    assert shared_redis.keys("thread:*") == []


def test_if_none_match_star_is_404_for_missing_and_unpublished_posts(api_client, blog):
    hidden = PostFactory(blog=blog, status=PostStatus.PENDING)
    assert api_client.get(thread_url(hidden.pk), headers={"If-None-Match": "*"}).status_code == 404
    assert api_client.get(thread_url(99_999), headers={"If-None-Match": "*"}).status_code == 404
    shown = PostFactory(blog=blog)
    assert api_client.get(thread_url(shown.pk), headers={"If-None-Match": "*"}).status_code == 304


def test_unpublishing_a_post_drops_its_version(
    api_client, shared_redis, thread, django_capture_on_commit_callbacks
):
    etag = api_client.get(thread_url(thread.pk))["ETag"]
    assert shared_redis.keys("thread:*")
    with django_capture_on_commit_callbacks(execute=True):
        posts.post_set_status(post=posts.post_lock(post_id=thread.pk), status=PostStatus.REJECTED)
    assert shared_redis.keys("thread:v:*") == []
    response = api_client.get(thread_url(thread.pk), headers={"If-None-Match": etag})
    assert response.status_code == 404
    assert shared_redis.keys("thread:v:*") == []


def test_every_key_expires(api_client, shared_redis, thread):
    api_client.get(thread_url(thread.pk))
    api_client.get(thread_url(thread.pk), {"replies_limit": 0})
    keys = shared_redis.keys("thread:*")
    assert len(keys) == 3  # the version and two pages
    assert all(shared_redis.ttl(key) > 0 for key in keys)


def test_many_variants_keep_at_most_a_fixed_number_of_pages(api_client, shared_redis, thread):
    url = thread_url(thread.pk)
    variants = [{}, {"cursor": ""}, {"page": "last"}]
    variants += [{"page_size": size} for size in range(1, 30)]
    variants += [{"replies_limit": limit} for limit in range(0, 30)]
    variants += [{"page": page, "page_size": 1} for page in range(1, 8)]
    variants += [{"page": page, "page_size": 2, "replies_limit": 1} for page in range(1, 5)]
    variants += [{**params, "sort": sort} for params in variants for sort in ("newest", "top")]
    bodies = {}
    for params in variants * 2:  # twice: the second round reads what was kept
        response = api_client.get(url, params)
        assert response.status_code == 200, params
        key = tuple(sorted(params.items()))
        assert bodies.setdefault(key, response.content) == response.content
    pages = shared_redis.keys(f"thread:page:{thread.pk}:*")
    assert 0 < len(pages) <= MAX_CACHED_PAGES == 36
    assert len(shared_redis.keys("thread:*")) == len(pages) + 1


def test_an_uncached_variant_is_as_fresh_as_a_cached_one(
    api_client, shared_redis, thread, django_capture_on_commit_callbacks
):
    url = thread_url(thread.pk)
    before = api_client.get(url, {"replies_limit": 7}).json()
    with django_capture_on_commit_callbacks(execute=True):
        make_comment(thread, body="late")
    after = api_client.get(url, {"replies_limit": 7}).json()
    assert after["count"] == before["count"] + 1
    assert after["results"][-1]["body"] == "late"
