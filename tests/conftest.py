import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from forum.permissions import MODERATORS_GROUP
from tests.factories import BlogFactory, PostFactory, UserFactory
from tests.openapi import SchemaCheckingAPIClient as APIClient


@pytest.fixture(scope="session", autouse=True)
def _plain_http():
    # Test clients and the live server speak plain HTTP; production redirects it to
    # HTTPS. Session-wide, so that it holds before the live server builds its
    # middleware.
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Production serves hashed files from a collected manifest; tests run without
    # collectstatic, so they use the plain storage (templates still resolve URLs).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    # Hashing strength is not under test; PBKDF2's iterations would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_local_cache():
    """Each test starts with an empty local-memory cache: cached thread pages and
    versions are keyed by post id, and ids come back after a rolled-back test. (A
    shared cache such as Redis is never flushed from here.) The same for the pages a
    process keeps for itself (``forum.thread_cache.local_pages``)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    from forum import thread_cache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
    thread_cache.local_pages.clear()  # each process's own copies of the pages it served


@pytest.fixture(autouse=True)
def _thread_cache(request, settings):
    """Thread pages are not cached (forum.thread_cache) unless a test is marked
    ``@pytest.mark.thread_cache``: a test's writes never commit, so the pages they
    change would stay cached (versions and ETags work either way)."""
    if request.node.get_closest_marker("thread_cache") is None:
        settings.FORUM = {**settings.FORUM, "THREAD_CACHE_SECONDS": 0}


@pytest.fixture(autouse=True)
def _comment_policy(request, settings):
    """Tests run under ``forum.policy.OpenPolicy`` (every comment published at once)
    unless marked ``@pytest.mark.moderation_policy``, which keeps the project's
    default policy, ``moderation.policy.BlogModerationPolicy`` (each blog's rules)."""
    if request.node.get_closest_marker("moderation_policy") is None:
        settings.FORUM = {**settings.FORUM, "COMMENT_POLICY": "forum.policy.OpenPolicy"}


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    user = UserFactory(username="mod", display_name="The Moderator")
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    user.groups.add(group)
    return user


@pytest.fixture
def blog(db):
    return BlogFactory(slug="probation", name="Probation Blog")


@pytest.fixture
def post(blog):
    return PostFactory(blog=blog)


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def moderator_client(moderator) -> APIClient:
    client = APIClient()
    client.force_authenticate(moderator)
    return client


def redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def shared_redis(settings):
    """The production cache backend (Redis at 127.0.0.1:6379) under a key prefix of
    this test's own, removed afterwards; skipped when no Redis answers."""
    import uuid

    from django.core.cache import caches

    if not redis_answers():
        pytest.skip("no Redis answers at 127.0.0.1:6379 (the production cache backend)")
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"forum-test-{uuid.uuid4().hex}",
        }
    }
    yield caches["default"]
    caches["default"].delete_pattern("*")  # only this test's keys: they carry its prefix
