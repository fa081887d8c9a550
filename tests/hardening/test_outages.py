"""Outages, through HTTP against real servers pointed at a closed port.

Redis down: the cache is an optimisation, so reads come from the database, writes
go through with the rate limits and the sign-in lockout counted in the database.
PostgreSQL down: every request answers 503 with Retry-After and a JSON body, never
a 500 or a traceback."""

import json
import urllib.error
import urllib.request

import pytest

from forum.models import Comment, RateCounter
from tests.factories import BlogFactory, PostFactory, UserFactory, make_comment
from tests.servers import closed_port, gunicorn

RIGHT = "correct horse battery"  # tests.factories.UserFactory's password


def call(base: str, method: str, path: str, body=None, headers=None):
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    settings.FORUM = {**settings.FORUM, "THREAD_CACHE_SECONDS": 600}


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_reads_and_writes_go_on_through_the_database(
    redis_down, live_server, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_anon": ["2/min"]}
    post = PostFactory(blog=BlogFactory())
    comment = make_comment(post, body="first")
    user = UserFactory()
    base = live_server.url

    status, headers, body = call(base, "GET", f"/api/posts/{post.pk}/comments/")
    assert status == 200
    assert [c["body"] for c in json.loads(body)["results"]] == ["first"]
    assert call(
        base, "GET", f"/api/posts/{post.pk}/comments/", headers={"If-None-Match": headers["ETag"]}
    )[0] in (200, 304)
    assert call(base, "GET", "/api/posts/")[0] == 200

    codes = [
        call(base, "POST", f"/api/posts/{post.pk}/comments/", {"body": f"while down {i}"})[0]
        for i in range(3)
    ]
    assert codes == [201, 201, 429]  # the limit holds, counted in the database
    assert RateCounter.objects.exists()
    status, _, body = call(base, "GET", f"/api/posts/{post.pk}/comments/")
    assert [c["body"] for c in json.loads(body)["results"]] == [
        "first",
        "while down 0",
        "while down 1",
    ]

    assert call(base, "POST", f"/api/comments/{comment.pk}/flag/", {"reason": "spam"})[0] == 201
    status, _, body = call(
        base, "POST", "/api/auth/token/", {"username": user.username, "password": RIGHT}
    )
    assert status == 200 and "token" in json.loads(body)
    wrong = [
        call(base, "POST", "/api/auth/token/", {"username": user.username, "password": "x"})[0]
        for _ in range(5)
    ]
    assert wrong[-1] == 429  # the lockout is counted in the database too
    assert call(base, "GET", "/admin/login/")[0] == 200
    assert Comment.objects.filter(post=post).count() == 3


ENDPOINTS = [
    ("GET", "/api/posts/"),
    ("GET", "/api/posts/1/"),
    ("GET", "/api/posts/1/comments/"),
    ("GET", "/api/comments/"),
    ("GET", "/api/blogs/"),
    ("POST", "/api/posts/1/comments/"),
    ("POST", "/api/comments/1/flag/"),
    ("POST", "/api/guest-posts/"),
    ("POST", "/api/auth/token/"),
    ("POST", "/api/accounts/register/"),
    ("GET", "/api/accounts/me/"),
    ("GET", "/api/moderation/queue/"),
    ("OPTIONS", "/api/posts/1/comments/"),
    ("GET", "/admin/"),
    ("POST", "/admin/login/"),
]


@pytest.mark.parametrize("cache", ["locmem://", "redis-down"])
def test_with_the_database_down_every_endpoint_answers_503_json(cache):
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/forum",
        "CACHE_URL": cache if cache != "redis-down" else f"redis://127.0.0.1:{closed_port()}/0",
    }
    bodies = {
        "/api/posts/1/comments/": {"body": "hello"},
        "/api/comments/1/flag/": {"reason": "spam"},
        "/api/guest-posts/": {"blog": "b", "title": "t", "body": "b", "author_name": "a"},
        "/api/auth/token/": {"username": "moderator", "password": "x"},
        "/api/accounts/register/": {"username": "new", "password": "a sturdy phrase 9"},
    }
    with gunicorn(env) as server:
        answers = {}
        for method, path in ENDPOINTS:
            for headers in ({}, {"Authorization": "Token 0123456789abcdef"}):
                answer = server.request(method, path, bodies.get(path), headers)
                answers[(method, path, bool(headers))] = answer.status
                assert b"Traceback" not in answer.body
                if answer.status >= 500:
                    assert answer.status == 503, (method, path, answer.body[:300])
                    assert answer.headers["content-type"] == "application/json"
                    assert int(answer.headers["retry-after"]) > 0
                    assert answer.json()["detail"].startswith("The service is briefly")
        # Whatever needs the database is a 503; the rest (OPTIONS, the redirect to the
        # login page, a CSRF refusal, a 401 without credentials) answers as usual.
        assert 500 not in answers.values(), answers
        assert list(answers.values()).count(503) >= 20, answers
        assert server.request("GET", "/api/schema/").status == 200
