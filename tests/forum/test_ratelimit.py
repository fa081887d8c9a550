"""Rate limits: shared counters that hold across threads, processes and machines."""

import itertools
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from forum import ratelimit
from forum.models import Comment, RateCounter
from forum.ratelimit import Limit, attempt, hit, pending, record
from tests.servers import closed_port

_counter = itertools.count()

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


@pytest.fixture(params=["database", "redis"])
def backend(request, db):
    """Each limiter test runs on both stores: the database fallback and Redis."""
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
    return request.param


def test_hits_beyond_the_limit_wait_until_the_oldest_leaves_the_span(backend):
    limit = Limit("t", 2, 60)
    assert hit(limit=limit, ident="a", now=120.0) is None
    assert hit(limit=limit, ident="a", now=130.0) is None
    assert hit(limit=limit, ident="a", now=150.0) == pytest.approx(30.0)
    assert hit(limit=limit, ident="b", now=150.0) is None  # another identity
    assert hit(limit=limit, ident="a", now=180.0) is None  # the hit at 120 has left
    assert hit(limit=limit, ident="a", now=185.0) == pytest.approx(5.0)  # 130 leaves at 190


def test_no_burst_across_a_window_boundary(backend):
    """Fixed windows let 2N through around ``now // S``; the sliding log never lets
    more than N into any interval of S seconds."""
    limit = Limit("edge", 2, 60)
    assert hit(limit=limit, ident="a", now=59.0) is None
    assert hit(limit=limit, ident="a", now=59.5) is None
    assert hit(limit=limit, ident="a", now=60.0) == pytest.approx(59.0)
    assert hit(limit=limit, ident="a", now=61.0) == pytest.approx(58.0)
    assert hit(limit=limit, ident="a", now=119.0) is None


@pytest.mark.django_db
@hypothesis_settings(max_examples=30, deadline=None)
@given(gaps=st.lists(st.integers(min_value=0, max_value=40_000), min_size=1, max_size=25))
def test_no_interval_of_the_span_ever_holds_more_than_the_limit(gaps):
    limit = Limit(f"prop-{next(_counter)}", 3, 60)
    now, accepted = 1_000_000.0, []
    for gap in gaps:
        now += gap / 1000
        if hit(limit=limit, ident="a", now=now) is None:
            accepted.append(now)
    for i, start in enumerate(accepted):
        assert sum(start <= t < start + 60 for t in accepted[i:]) <= 3
    # and it refuses nothing it could have taken: each refusal had 3 within the span
    assert len(accepted) >= min(len(gaps), 3)


def test_a_refused_hit_consumes_nothing_in_any_limit(backend):
    minute, hour = Limit("m", 2, 60), Limit("h", 3, 3600)
    checks = [(minute, "a"), (hour, "a")]
    assert attempt(checks, now=0.0) is None
    assert attempt(checks, now=1.0) is None
    assert attempt(checks, now=2.0) == pytest.approx(58.0)  # the minute refuses ...
    assert attempt(checks, now=61.0) is None  # ... so the hour counted 2, not 3
    assert attempt(checks, now=122.0) == pytest.approx(3600.0 - 122.0)  # the hour is full


def test_record_counts_past_the_limit_and_pending_only_looks(backend):
    limit = Limit("fail", 2, 60)
    checks = [(limit, "a")]
    assert pending(checks, now=0.0) is None
    assert record(checks, now=0.0) is None
    assert record(checks, now=10.0) == pytest.approx(50.0)
    assert record(checks, now=20.0) == pytest.approx(50.0)  # the newest two are kept
    assert pending(checks, now=30.0) == pytest.approx(40.0)
    assert pending(checks, now=80.0) is None
    assert hit(limit=limit, ident="a", now=80.0) is None


@pytest.mark.django_db
def test_database_counters_of_quiet_identities_are_swept():
    limit = Limit("t", 5, 1)
    hit(limit=limit, ident="a", now=0.0)
    RateCounter.objects.update(expires_at="2000-01-01T00:00:00Z")
    hit(limit=limit, ident="b", now=10.0)
    assert list(RateCounter.objects.values_list("key", flat=True)) == [limit.key("b")]


def test_redis_keys_expire_with_the_span(shared_redis):
    hit(limit=Limit("ttl", 2, 60), ident="a")
    (key,) = shared_redis.keys("rl:*")
    assert 0 < shared_redis.ttl(key) <= 60


@pytest.mark.django_db
def test_a_redis_outage_counts_in_the_database(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    limit = Limit("outage", 1, 60)
    assert hit(limit=limit, ident="a", now=0.0) is None
    assert hit(limit=limit, ident="a", now=1.0) == pytest.approx(59.0)
    assert RateCounter.objects.filter(key=limit.key("a")).exists()
    assert "counting in the database" in caplog.text


def test_redis_counters_are_atomic_across_threads(shared_redis):
    limit = Limit("redis-t", 2, 60)
    barrier = threading.Barrier(20)

    def one(_):
        barrier.wait()
        return hit(limit=limit, ident="same")

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
    # The limit holds over any minute, so exactly two, whenever the test runs.
    assert codes.count(201) == 2
    assert codes.count(429) == 18
    assert Comment.objects.filter(post=post).count() == codes.count(201)


def test_the_backend_follows_the_configured_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "x"}}
    assert ratelimit._uses_redis()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not ratelimit._uses_redis()
