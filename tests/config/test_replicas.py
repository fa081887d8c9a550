"""The replica router's parts that need no replica (config/replicas.py); the real
primary and streaming replica are in test_replicas_live.py."""

from config import replicas

# --- without a replica: the router and the settings --------------------------------


def test_outside_a_request_everything_reads_the_primary():
    router = replicas.ReplicaRouter()
    assert router.db_for_read(None) == "default"
    assert router.db_for_write(None) == "default"
    assert router.allow_migrate("default", "forum") is True
    assert router.allow_migrate("replica_1", "forum") is False


def test_a_write_moves_the_rest_of_the_request_to_the_primary():
    router = replicas.ReplicaRouter()
    state = replicas._RequestState(db="replica_2")
    token = replicas._state.set(state)
    try:
        assert router.db_for_read(None) == "replica_2"
        router.db_for_write(None)
        assert router.db_for_read(None) == "default"
        assert state.wrote is True
    finally:
        replicas._state.reset(token)


def test_lsn_positions_compare_as_numbers():
    assert replicas.lsn_to_int("0/3000000") < replicas.lsn_to_int("0/3000100")
    assert replicas.lsn_to_int("0/FFFFFFFF") < replicas.lsn_to_int("1/0")


def test_what_a_writer_is_remembered_by_is_what_its_next_read_presents(db, user):
    from django.http import HttpResponse
    from django.test import RequestFactory
    from rest_framework.authtoken.models import Token
    from rest_framework.response import Response

    factory = RequestFactory(REMOTE_ADDR="192.0.2.7")
    token = Token.objects.create(user=user).key
    issued = Response({"token": token, "edit_token": "edit-secret"})
    anonymous = factory.post("/api/auth/token/")
    written = replicas._writer_keys(anonymous, issued)
    # The new token (its owner linked), the new edit token, the anonymous network.
    assert written[replicas._credential_key("Token", token)] == user.pk
    later = factory.get("/", HTTP_AUTHORIZATION=f"token {token}", HTTP_X_EDIT_TOKEN="edit-secret")
    assert set(written) == set(replicas.reader_keys(later))
    bearer = factory.get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert replicas._credential_key("Token", token) in replicas.reader_keys(bearer)

    login = HttpResponse()
    login.set_cookie("sessionid", "new-session")
    signed_in = factory.post("/admin/login/")
    signed_in.user = user
    written = replicas._writer_keys(signed_in, login)
    # The session after login, and the account; no network key for an account.
    assert written == {
        replicas._credential_key("session", "new-session"): user.pk,
        f"user:{user.pk}": user.pk,
    }
    factory.cookies["sessionid"] = "new-session"
    assert set(replicas.reader_keys(factory.get("/"))) & set(written)
    assert not set(replicas.reader_keys(RequestFactory().get("/"))) & set(written)


def test_settings_add_every_replica_from_the_environment():
    from tests.config.test_settings import PRODUCTION_ENV, manage

    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://forum@primary:5432/forum",
        "DATABASE_REPLICA_URLS": "postgres://forum@r1:5432/forum, postgres://forum@r2:5432/forum",
        "DATABASE_REPLICA_URL": "postgres://forum@r3:5432/forum",
        "REPLICA_CONNECT_TIMEOUT": "3",
        "DATABASE_POOL": "1",
    }
    code = (
        "from django.conf import settings as s; d = s.DATABASES; "
        "print([d[a]['HOST'] for a in s.REPLICA_DATABASES], d['replica_2']['TEST']['MIRROR'], "
        "d['replica_1']['OPTIONS']['connect_timeout'], "
        "d['replica_3']['OPTIONS']['pool']['max_size'], "
        "s.DATABASE_ROUTERS, s.MIDDLEWARE.index('config.replicas.ReplicaMiddleware') "
        "< s.MIDDLEWARE.index('django.contrib.sessions.middleware.SessionMiddleware'))"
    )
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1] == (
        "['r1', 'r2', 'r3'] default 3 8 ['config.replicas.ReplicaRouter'] True"
    ), result.stderr


def test_without_replicas_nothing_is_routed():
    from tests.config.test_settings import PRODUCTION_ENV, manage

    code = (
        "from django.conf import settings as s; "
        "print(s.REPLICA_DATABASES, s.DATABASE_ROUTERS, "
        "any('replicas' in m for m in s.MIDDLEWARE))"
    )
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.strip().splitlines()[-1] == "[] [] False", result.stderr
