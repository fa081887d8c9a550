"""Rate limits: shared counters that hold across threads, processes and machines."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import caches
from django.db import connection

from forum import ratelimit
from forum.models import Comment, RateCounter
from forum.ratelimit import Limit, hit

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)


@pytest.mark.parametrize(
    ("rate", "count", "seconds"),
    [("2/min", 2, 60), ("10/hour", 10, 3600), ("1/30s", 1, 30), ("6/ 1 day", 6, 86400)],
)
def test_rates_parse(rate, count, seconds):
    assert Limit.parse("x", rate) == Limit("x", count, seconds)


@pytest.mark.parametrize("rate", ["two/min", "2/fortnight", "2", ""])
def test_bad_rates_are_refused_with_the_scope_named(rate):
    with pytest.raises(ValueError, match="scope-x"):
        Limit.parse("scope-x", rate)


@pytest.mark.django_db
def test_hits_beyond_the_limit_wait_for_the_window_to_end():
    limit = Limit("t", 2, 60)
    assert hit(limit=limit, ident="a", now=120.0) is None
    assert hit(limit=limit, ident="a", now=130.0) is None
    assert hit(limit=limit, ident="a", now=150.0) == pytest.approx(30.0)
    assert hit(limit=limit, ident="b", now=150.0) is None  # another identity
    assert hit(limit=limit, ident="a", now=180.0) is None  # the next window


@pytest.mark.django_db
def test_database_counters_of_ended_windows_are_swept():
    limit = Limit("t", 5, 1)
    hit(limit=limit, ident="a", now=0.0)
    RateCounter.objects.update(expires_at="2000-01-01T00:00:00Z")
    hit(limit=limit, ident="a", now=10.0)
    assert RateCounter.objects.count() == 1


def _redis_or_skip(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": "forum-tests",
        }
    }
    redis_cache = caches["default"]
    try:
        redis_cache.clear()
    except Exception as exc:
        pytest.skip(f"no Redis at 127.0.0.1:6379: {exc}")
    return redis_cache


def test_redis_counters_are_atomic_across_threads(settings):
    _redis_or_skip(settings)
    limit = Limit("redis-t", 2, 60)
    barrier = threading.Barrier(20)

    def one(_):
        barrier.wait()
        return hit(limit=limit, ident="same", now=1000.0)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert sum(result is None for result in results) == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_database_counters_are_atomic_across_threads():
    limit = Limit("db-t", 2, 60)
    barrier = threading.Barrier(20)

    def one(_):
        barrier.wait()
        try:
            return hit(limit=limit, ident="same", now=1000.0)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert sum(result is None for result in results) == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_comments_at_a_limit_of_two_accept_at_most_two(live_server, settings):
    from tests.factories import PostFactory

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_anon": ["2/min"]}
    settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "forum.policy.OpenPolicy"}
    post = PostFactory()
    url = f"{live_server.url}/api/posts/{post.pk}/comments/"
    barrier = threading.Barrier(20)

    def send(i):
        request = urllib.request.Request(  # noqa: S310 (the test's own server)
            url,
            data=json.dumps({"body": f"parallel {i}"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = sorted(pool.map(send, range(20)))
    assert codes.count(201) <= 2
    assert set(codes) <= {201, 429}
    assert Comment.objects.filter(post=post).count() == codes.count(201)


def test_the_backend_follows_the_configured_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "x"}}
    assert ratelimit._uses_redis()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not ratelimit._uses_redis()
