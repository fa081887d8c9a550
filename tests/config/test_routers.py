"""The primary/replica router (config/routers.py): reads go to the replica unless the
request, or the same client a moment ago, wrote."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config import routers


@pytest.fixture
def seen():
    return []


@pytest.fixture
def middleware(seen):
    def view(request):
        seen.append(routers.PrimaryReplicaRouter().db_for_read(None))
        if request.path == "/write/":
            routers.PrimaryReplicaRouter().db_for_write(None)
            seen.append(routers.PrimaryReplicaRouter().db_for_read(None))
        return HttpResponse("ok")

    return routers.PrimaryPinMiddleware(view)


def test_router_reads_the_replica_until_something_is_written():
    router = routers.PrimaryReplicaRouter()
    token = routers._pinned.set(False)
    try:
        assert router.db_for_read(None) == "replica"
        assert router.db_for_write(None) == "default"
        assert router.db_for_read(None) == "default"
    finally:
        routers._pinned.reset(token)
    assert router.allow_migrate("default", "forum") is True
    assert router.allow_migrate("replica", "forum") is False


def test_a_read_goes_to_the_replica(middleware, seen):
    response = middleware(RequestFactory().get("/read/"))
    assert seen == ["replica"]
    assert routers.PIN_COOKIE not in response.cookies
    assert routers.pinned() is False


def test_a_write_request_reads_the_primary_and_pins_the_client(middleware, seen, settings):
    settings.REPLICA_PIN_SECONDS = 7
    response = middleware(RequestFactory().post("/read/"))
    assert seen == ["default"]
    cookie = response.cookies[routers.PIN_COOKIE]
    assert cookie["max-age"] == 7
    assert routers.pinned() is False  # nothing leaks into the next request

    factory = RequestFactory()
    factory.cookies[routers.PIN_COOKIE] = "1"
    middleware(factory.get("/read/"))
    assert seen == ["default", "default"]


def test_a_write_inside_a_read_request_pins_the_rest_of_it(middleware, seen):
    middleware(RequestFactory().get("/write/"))
    assert seen == ["replica", "default"]


def test_clients_without_cookies_are_pinned_by_their_credentials(middleware, seen):
    factory = RequestFactory()
    middleware(factory.post("/read/", HTTP_AUTHORIZATION="Token abc"))
    middleware(factory.get("/read/", HTTP_AUTHORIZATION="Token abc"))
    middleware(factory.get("/read/", HTTP_AUTHORIZATION="Token other"))
    middleware(factory.get("/read/"))
    assert seen == ["default", "default", "replica", "replica"]


def test_settings_add_the_replica_and_the_pool_from_the_environment():
    from tests.config.test_settings import PRODUCTION_ENV, manage

    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://forum@primary:5432/forum",
        "DATABASE_REPLICA_URL": "postgres://forum@replica:5432/forum",
        "DATABASE_POOL": "1",
    }
    code = (
        "from django.conf import settings as s; d = s.DATABASES; "
        "print(d['replica']['HOST'], d['replica']['TEST']['MIRROR'], d['default']['CONN_MAX_AGE'], "
        "d['default']['OPTIONS']['pool']['max_size'], s.DATABASE_ROUTERS, "
        "s.MIDDLEWARE.index('config.routers.PrimaryPinMiddleware') "
        "< s.MIDDLEWARE.index('django.contrib.sessions.middleware.SessionMiddleware'))"
    )
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1] == (
        "replica default 0 8 ['config.routers.PrimaryReplicaRouter'] True"
    ), result.stderr
